SELECT 'it\'s', "dq \" x", r'C:\path\', X'0AFF', 'multi
line', 1L, 2.5D, 1e3, .5, 10BD, `we``ird` FROM t
