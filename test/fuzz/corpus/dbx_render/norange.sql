SELECT {{ start_date }}
