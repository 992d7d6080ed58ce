A`event day`
SELECT * FROM sales.orders WHERE `event day` BETWEEN {{ start_date }} AND {{ end_date }}
