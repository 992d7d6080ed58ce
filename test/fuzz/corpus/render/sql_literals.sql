SELECT * FROM users WHERE email = 'a@b.com' AND name = 'O''Brien' AND token = 'x' AND ip = '10.0.0.1
