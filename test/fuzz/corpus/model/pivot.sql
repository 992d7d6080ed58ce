SELECT * FROM (SELECT year, quarter, amount FROM sales.q)
PIVOT (sum(amount) FOR quarter IN ('Q1' AS q1, 'Q2' AS q2, 'Q3', 'Q4'))
