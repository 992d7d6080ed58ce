"""The emulator's SQL engine: the statement shapes ironlayer sends (dbx-contract seam 2) and the shop example.

Owns: each shape (CREATE SCHEMA, CREATE OR REPLACE VIEW/TABLE, CREATE TABLE IF
NOT EXISTS ... WHERE 1 = 0, INSERT ... REPLACE WHERE, INSERT ... EXCEPT,
MERGE ... UPDATE SET * / INSERT *, the WITH SCHEMA EVOLUTION variants) sent
through the API with the request-id comment, checked by table contents and DML
counts; and every model of examples/shop rendered by hand into those shapes
and run twice. Run: .venv/bin/python -m unittest -v test_engine
"""

import os
import re
import unittest
import uuid

import emuctl

EMU = None
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def setUpModule():
    global EMU
    EMU = emuctl.Emulator()


def tearDownModule():
    EMU.stop()


def run(sql, expect='SUCCEEDED'):
    """Send one statement as the dispatcher does; returns (answer, request id)."""
    rid = str(uuid.uuid4())
    ans = EMU.execute('/* ironlayer_request_id=%s */\n%s' % (rid, sql), wait='0s',
                      query_tags=[{'key': 'ironlayer_request_id', 'value': rid}], on_wait_timeout='CONTINUE',
                      disposition='INLINE', format='JSON_ARRAY')
    ans = EMU.wait(ans['statement_id'])
    if ans['status']['state'] != expect:
        raise AssertionError('%s: %s\n%s' % (ans['status']['state'], ans['status'].get('error'), sql))
    return ans, rid


def counts(ans):
    cols = [c['name'] for c in ans['manifest']['schema']['columns']]
    return dict(zip(cols, [int(v) for v in ans['result']['data_array'][0]]))


def rows(name):
    return EMU.table(name)['rows']


class Shapes(unittest.TestCase):
    T = '`c1`.`s1`.`t`'

    def setUp(self):
        EMU.reset(data=True)
        run('CREATE SCHEMA IF NOT EXISTS `c1`.`s1`')
        run('CREATE SCHEMA IF NOT EXISTS `c1`.`s1`')                    # twice: IF NOT EXISTS
        run("CREATE OR REPLACE TABLE `c1`.`s1`.`src` AS\nSELECT * FROM VALUES "
            "(1, DATE'2024-01-01', 'a'), (2, DATE'2024-01-02', 'b'), (3, DATE'2024-01-03', 'c') AS v(k, d, x)")

    def q(self, where="d >= DATE'2024-01-01' AND d <= DATE'2024-01-02'"):
        return 'SELECT k, d, x FROM `c1`.`s1`.`src` WHERE ' + where

    def test_view_and_table(self):
        run('CREATE OR REPLACE VIEW `c1`.`s1`.`v` AS\n' + self.q())
        self.assertEqual(rows('c1.s1.v'), [['1', '2024-01-01', 'a'], ['2', '2024-01-02', 'b']])
        ans, _ = run('CREATE OR REPLACE TABLE %s AS\n%s' % (self.T, self.q()))
        self.assertEqual(counts(ans), {'num_affected_rows': 2, 'num_inserted_rows': 2})
        run('CREATE OR REPLACE TABLE %s AS\n%s' % (self.T, self.q("k = 3")))
        self.assertEqual(rows('c1.s1.t'), [['3', '2024-01-03', 'c']])

    def test_create_empty_then_replace_where(self):
        e = 'CREATE TABLE IF NOT EXISTS %s AS\nSELECT * FROM (\n%s\n) AS q WHERE 1 = 0' % (self.T, self.q())
        run(e)
        self.assertEqual(EMU.table('c1.s1.t'), {'columns': ['k', 'd', 'x'], 'types': ['INT', 'DATE', 'STRING'],
                                                'rows': []})
        r = ("INSERT INTO %s REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-03'\n"
             "SELECT * FROM (\n%s\n) AS q" % (self.T, self.q()))
        ans, rid = run(r)
        self.assertEqual(counts(ans), {'num_affected_rows': 2, 'num_inserted_rows': 2})
        run(r)                                                          # a re-run replaces, never adds
        run(e)                                                          # exists: nothing happens
        self.assertEqual(rows('c1.s1.t'), [['1', '2024-01-01', 'a'], ['2', '2024-01-02', 'b']])
        self.assertEqual(EMU.control('GET', 'executions?request_id=' + rid)['count'], 1)

    def test_replace_where_refuses_rows_outside(self):
        run('CREATE TABLE IF NOT EXISTS %s AS\nSELECT * FROM (\n%s\n) AS q WHERE 1 = 0' % (self.T, self.q()))
        run("INSERT INTO %s REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-02'\n"
            "SELECT * FROM (\n%s\n) AS q" % (self.T, self.q("k = 1")))
        ans, _ = run("INSERT INTO %s REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-02'\n"
                     "SELECT * FROM (\n%s\n) AS q" % (self.T, self.q("true")), expect='FAILED')
        self.assertTrue(ans['status']['error']['message'].startswith('[DELTA_REPLACE_WHERE_MISMATCH]'))
        self.assertEqual(ans['status']['sql_state'], '44000')
        self.assertEqual(rows('c1.s1.t'), [['1', '2024-01-01', 'a']])     # atomic: nothing deleted

    def test_append_except(self):
        run('CREATE TABLE IF NOT EXISTS %s AS\nSELECT * FROM (\n%s\n) AS q WHERE 1 = 0' % (self.T, self.q()))
        a = 'INSERT INTO %s\nSELECT * FROM (\n%s\n) AS q\nEXCEPT\nSELECT * FROM %s' % (self.T, self.q(), self.T)
        ans, _ = run(a)
        self.assertEqual(counts(ans)['num_inserted_rows'], 2)
        ans, _ = run(a.replace(self.q(), self.q('true')))
        self.assertEqual(counts(ans)['num_inserted_rows'], 1)
        ans, _ = run(a.replace(self.q(), self.q('true')))
        self.assertEqual(counts(ans)['num_inserted_rows'], 0)
        self.assertEqual(len(rows('c1.s1.t')), 3)

    def test_merge(self):
        run('CREATE TABLE IF NOT EXISTS %s AS\nSELECT * FROM (\n%s\n) AS q WHERE 1 = 0' % (self.T, self.q()))
        m = ('MERGE INTO %s AS t\nUSING (\n%%s\n) AS s\nON t.`k` = s.`k` AND t.`d` = s.`d`\n'
             'WHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *' % self.T)
        ans, _ = run(m % self.q())
        self.assertEqual(counts(ans), {'num_affected_rows': 2, 'num_updated_rows': 0, 'num_deleted_rows': 0,
                                       'num_inserted_rows': 2})
        run("UPDATE `c1`.`s1`.`src` SET x = 'B' WHERE k = 2")
        ans, _ = run(m % self.q('true'))
        self.assertEqual(counts(ans), {'num_affected_rows': 3, 'num_updated_rows': 2, 'num_deleted_rows': 0,
                                       'num_inserted_rows': 1})
        self.assertEqual(rows('c1.s1.t'), [['1', '2024-01-01', 'a'], ['2', '2024-01-02', 'B'],
                                           ['3', '2024-01-03', 'c']])
        ans, _ = run(m % 'SELECT k, d, x FROM `c1`.`s1`.`src` UNION ALL SELECT k, d, x FROM `c1`.`s1`.`src`',
                     expect='FAILED')
        self.assertIn('[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE]', ans['status']['error']['message'])

    def test_schema_evolution(self):
        run('CREATE TABLE IF NOT EXISTS %s AS\nSELECT * FROM (\n%s\n) AS q WHERE 1 = 0' % (self.T, self.q()))
        run("INSERT INTO %s REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-02'\n"
            "SELECT * FROM (\n%s\n) AS q" % (self.T, self.q("k = 1")))
        wide = 'SELECT k, d, x, k * 10 AS y FROM `c1`.`s1`.`src` WHERE '
        run("INSERT WITH SCHEMA EVOLUTION INTO %s REPLACE WHERE `d` >= DATE'2024-01-02' AND `d` < DATE'2024-01-03'\n"
            "SELECT * FROM (\n%s\n) AS q" % (self.T, wide + 'k = 2'))
        self.assertEqual(EMU.table('c1.s1.t')['columns'], ['k', 'd', 'x', 'y'])
        self.assertEqual(rows('c1.s1.t'), [['1', '2024-01-01', 'a', None], ['2', '2024-01-02', 'b', '20']])
        run('MERGE WITH SCHEMA EVOLUTION INTO %s AS t\nUSING (\n%s\n) AS s\nON t.`k` = s.`k`\n'
            'WHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *'
            % (self.T, 'SELECT k, d, x, k * 10 AS y, true AS z FROM `c1`.`s1`.`src`'))
        self.assertEqual(rows('c1.s1.t'), [['1', '2024-01-01', 'a', '10', 'true'],
                                           ['2', '2024-01-02', 'b', '20', 'true'],
                                           ['3', '2024-01-03', 'c', '30', 'true']])
        ans, _ = run("INSERT INTO %s REPLACE WHERE `d` >= DATE'2024-01-02' AND `d` < DATE'2024-01-03'\n"
                     "SELECT * FROM (\n%s\n) AS q" % (self.T, wide + 'k = 2'), expect='FAILED')
        self.assertTrue(ans['status']['error']['message'].startswith('[INSERT_COLUMN_ARITY_MISMATCH]'))

    def test_two_part_names_use_the_request_catalog(self):
        run('CREATE SCHEMA IF NOT EXISTS `c1`.`plain`')
        run('CREATE SCHEMA IF NOT EXISTS `main`.`plain`')
        run('CREATE OR REPLACE TABLE plain.t2 AS SELECT 1 AS a')                 # catalog main
        EMU.wait(EMU.execute('CREATE OR REPLACE TABLE plain.t2 AS SELECT 2 AS a', catalog='c1')['statement_id'])
        self.assertEqual(rows('main.plain.t2'), [['1']])
        self.assertEqual(rows('c1.plain.t2'), [['2']])


# ------------------------------------------------------------------ the shop example

SOURCES = {
    'customers': ('customer_id INT, first_name STRING, last_name STRING, email STRING, city STRING, country STRING, '
                  'signup_at TIMESTAMP, marketing_opt_in BOOLEAN, updated_at TIMESTAMP',
                  ["(1, ' Anna ', 'Schmidt', 'ANNA@MAIL.EXAMPLE', 'Berlin', 'de', TIMESTAMP'2025-09-01 10:00:00', "
                   "true, TIMESTAMP'2025-09-01 10:00:00')",
                   "(1, 'Anna', 'Schmidt', 'anna@post.example', 'Hamburg', 'de', TIMESTAMP'2025-09-01 10:00:00', "
                   "true, TIMESTAMP'2025-11-01 10:00:00')",
                   "(2, 'Ben', 'Martin', 'ben@mail.example', 'Paris', 'fr', TIMESTAMP'2025-09-02 10:00:00', "
                   "false, TIMESTAMP'2025-09-02 10:00:00')",
                   "(3, 'Clara', 'Rossi', 'clara@mail.example', 'Rome', 'it', TIMESTAMP'2025-09-03 10:00:00', "
                   "false, TIMESTAMP'2025-09-03 10:00:00')"]),
    'products': ('product_id INT, sku STRING, product_name STRING, category STRING, unit_price DECIMAL(10,2), '
                 'unit_cost DECIMAL(10,2), is_active BOOLEAN, created_at TIMESTAMP',
                 ["(1, 'HOM-0001', 'Lamp', 'home', 20.00, 8.00, true, TIMESTAMP'2025-01-01 00:00:00')",
                  "(2, 'OUT-0002', 'Tent', 'outdoor', 150.00, 90.00, true, TIMESTAMP'2025-01-01 00:00:00')"]),
    'orders': ('order_id INT, customer_id INT, ordered_at TIMESTAMP, status STRING, channel STRING, currency STRING, '
               'shipping_amount DECIMAL(10,2), discount_code STRING',
               ["(1, 1, TIMESTAMP'2025-10-01 09:00:00', ' Shipped', 'WEB ', 'EUR', 4.90, '')",
                "(2, 1, TIMESTAMP'2025-10-02 09:00:00', 'delivered', 'app', 'EUR', 0.00, 'spring10')",
                "(3, 2, TIMESTAMP'2025-10-02 18:00:00', 'cancelled', 'web', 'EUR', 4.90, NULL)",
                "(4, 3, TIMESTAMP'2025-10-03 12:00:00', 'returned', 'web', 'EUR', 4.90, NULL)"]),
    'order_items': ('order_item_id INT, order_id INT, product_id INT, quantity INT, unit_price DECIMAL(10,2), '
                    'discount_amount DECIMAL(10,2)',
                    ["(1, 1, 1, 2, 20.00, NULL)", "(2, 1, 2, 1, 150.00, 15.00)", "(3, 2, 1, 1, 20.00, 2.00)",
                     "(4, 3, 2, 1, 150.00, NULL)", "(5, 4, 1, 3, 20.00, NULL)"]),
    'payments': ('payment_id INT, order_id INT, paid_at TIMESTAMP, method STRING, amount DECIMAL(10,2), '
                 'status STRING',
                 ["(1, 1, TIMESTAMP'2025-10-01 09:05:00', 'Card', 179.90, 'succeeded')",
                  "(2, 2, TIMESTAMP'2025-10-02 09:05:00', 'paypal ', 18.00, 'SUCCEEDED')",
                  "(3, 3, TIMESTAMP'2025-10-02 18:05:00', 'card', 154.90, 'failed')",
                  "(4, 4, TIMESTAMP'2025-10-03 12:05:00', 'klarna', 64.90, 'succeeded')",
                  "(5, 4, TIMESTAMP'2025-10-10 12:05:00', 'klarna', 64.90, 'refunded')"]),
    'events': ('event_id INT, session_id STRING, customer_id INT, event_type STRING, occurred_at TIMESTAMP, '
               'product_id INT, device STRING',
               ["(1, 's000001', 1, 'product_view', TIMESTAMP'2025-10-01 08:50:00', 1, 'web')",
                "(2, 's000001', 1, 'add_to_cart', TIMESTAMP'2025-10-01 08:55:00', 1, 'web')",
                "(3, 's000001', 1, 'purchase', TIMESTAMP'2025-10-01 09:00:00', NULL, 'web')",
                "(4, 's000002', NULL, 'product_view', TIMESTAMP'2025-10-02 10:00:00', 2, 'app')"]),
}

# name: (kind, materialization, time_column, unique_key) from each model's header
MODEL_RE = re.compile(r'^-- (name|kind|materialization|time_column|unique_key): (.*)$', re.M)
CATALOG, PREFIX = 'main', 'prod_'


def load_models():
    models = {}
    base = os.path.join(ROOT, 'examples', 'shop', 'models')
    for d, _, files in os.walk(base):
        for f in files:
            if f.endswith('.sql'):
                with open(os.path.join(d, f)) as fh:
                    text = fh.read()
                head = dict(MODEL_RE.findall(text))
                models[head['name']] = (head, text)
    return models


def render(text, names, start, end):
    """By hand, what the renderer does: three-part names for models, the range as date text."""
    def full(n):
        s, t = n.split('.')
        return '`%s`.`%s%s`.`%s`' % (CATALOG, PREFIX, s, t)
    short = {n.split('.')[1]: n for n in names}
    text = re.sub(r"\{\{\s*ref\('([^']+)'\)\s*\}\}", lambda m: full(short.get(m.group(1), m.group(1))), text)
    text = re.sub(r'`?\b(raw|staging|marts)`?\.`?(\w+)\b`?',
                  lambda m: full('%s.%s' % m.groups()) if '%s.%s' % m.groups() in names else m.group(0), text)
    return text.replace('{{ start_date }}', start).replace('{{ end_date }}', end)


def statements(head, q, start, end_plus_1, full_refresh):
    s, t = head['name'].split('.')
    T = '`%s`.`%s%s`.`%s`' % (CATALOG, PREFIX, s, t)
    out = ['CREATE SCHEMA IF NOT EXISTS `%s`.`%s%s`' % (CATALOG, PREFIX, s)]
    kind, mat = head['kind'], head.get('materialization', '')
    e = 'CREATE TABLE IF NOT EXISTS %s AS\nSELECT * FROM (\n%s\n) AS q WHERE 1 = 0' % (T, q)
    if mat == 'VIEW':
        out.append('CREATE OR REPLACE VIEW %s AS\n%s' % (T, q))
    elif kind == 'FULL_REFRESH' or full_refresh:
        out.append('CREATE OR REPLACE TABLE %s AS\n%s' % (T, q))
    elif head.get('time_column'):
        tc = head['time_column']
        out += [e, "INSERT INTO %s REPLACE WHERE `%s` >= DATE'%s' AND `%s` < DATE'%s'\nSELECT * FROM (\n%s\n) AS q"
                % (T, tc, start, tc, end_plus_1, q)]
    elif kind == 'MERGE_BY_KEY':
        on = ' AND '.join('t.`%s` = s.`%s`' % (k.strip(), k.strip()) for k in head['unique_key'].split(','))
        out += [e, 'MERGE INTO %s AS t\nUSING (\n%s\n) AS s\nON %s\nWHEN MATCHED THEN UPDATE SET *\n'
                   'WHEN NOT MATCHED THEN INSERT *' % (T, q, on)]
    else:
        out += [e, 'INSERT INTO %s\nSELECT * FROM (\n%s\n) AS q\nEXCEPT\nSELECT * FROM %s' % (T, q, T)]
    return out


ORDER = ['raw.raw_customers', 'raw.raw_order_items', 'raw.raw_products', 'raw.raw_orders', 'raw.raw_payments',
         'raw.raw_events', 'staging.stg_customers', 'staging.stg_order_items', 'staging.stg_orders',
         'staging.stg_payments', 'marts.fct_orders', 'marts.mrt_daily_revenue', 'marts.dim_customers',
         'marts.mrt_daily_funnel']


class Shop(unittest.TestCase):
    def test_every_model_runs_twice(self):
        EMU.reset(data=True)
        run('CREATE SCHEMA IF NOT EXISTS `main`.`source`')
        for t, (cols, values) in SOURCES.items():
            run('CREATE OR REPLACE TABLE `main`.`source`.`%s` (%s)' % (t, cols))
            run('INSERT INTO `main`.`source`.`%s` VALUES %s' % (t, ', '.join(values)))
        models = load_models()
        self.assertEqual(sorted(models), sorted(ORDER))
        first = {}
        for rnd, (start, end, end1, full) in enumerate((('2025-10-01', '2025-10-31', '2025-11-01', True),
                                                        ('2025-10-01', '2025-10-31', '2025-11-01', False))):
            for name in ORDER:
                head, text = models[name]
                q = render(text, set(models), start, end)
                for sql in statements(head, q, start, end1, full):
                    run(sql)
                s, t = name.split('.')
                got = rows('%s.%s%s.%s' % (CATALOG, PREFIX, s, t))
                if rnd == 0:
                    first[name] = got
                else:
                    self.assertEqual(got, first[name], name)            # a re-run changes nothing
        self.assertEqual(len(first['marts.fct_orders']), 4)
        self.assertEqual(len(first['staging.stg_customers']), 3)
        self.assertEqual([r[:3] for r in first['staging.stg_customers']],
                         [['1', 'Anna', 'Schmidt'], ['2', 'Ben', 'Martin'], ['3', 'Clara', 'Rossi']])
        fct = EMU.table('main.prod_marts.fct_orders')
        self.assertEqual(fct['columns'][-1], 'payment_state')
        self.assertEqual([r[-1] for r in fct['rows']], ['paid', 'paid', 'unpaid', 'refunded'])
        self.assertEqual(first['marts.mrt_daily_funnel'][0][:6], ['2025-10-01', '1', '1', '1', '0', '1'])


if __name__ == '__main__':
    unittest.main()
