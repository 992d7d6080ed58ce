SELECT * FROM x {# comment #} WHERE y = '{{ end_date }}'
