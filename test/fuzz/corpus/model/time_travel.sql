SELECT * FROM gold.t VERSION AS OF 3 a
JOIN gold.u TIMESTAMP AS OF '2024-01-01' b ON a.id = b.id
JOIN gold.v@v12 c ON c.id = a.id
