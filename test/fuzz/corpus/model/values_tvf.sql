SELECT * FROM VALUES (1, 'a'), (2, 'b') AS v(id, name), range(10) r, explode(array(1, 2)) e(x)
