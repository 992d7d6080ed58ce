MERGE INTO sales.customers t USING (SELECT * FROM x WHERE d >= {{start_date}}) s ON t.id = s.id
WHEN MATCHED THEN UPDATE SET t.n = s.n WHEN NOT MATCHED THEN INSERT *
