-- a view
SELECT o.id, c.name FROM sales.orders o JOIN `sales`.`customers` c ON c.id = o.id
