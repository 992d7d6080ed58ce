{% set cols = ['a', 'b'] %}
SELECT {{ cols | join(', ') }} FROM {{ source('raw', 'orders') }} {# note #}
WHERE ds = '${run_date}' AND x = {{ var("x}}y") }}
