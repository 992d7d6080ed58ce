#!/usr/bin/env python3
"""A fake Databricks SQL warehouse for ironlayer's tests.

Owns: the Statement Execution API 2.0 as recorded from real traffic (routes,
states, wait_timeout rules, error bodies, result manifest and chunks, cancel,
401/403), the OAuth M2M token endpoint, query history, and the fault injection
and control API under /_emulator/ (README.md beside this file).

Statements run for real on one DuckDB database (one for the emulator's life,
one executor thread, so one statement at a time) after translation by sqlglot
from Databricks SQL; the Delta statement shapes ironlayer sends (INSERT ...
REPLACE WHERE, MERGE ... UPDATE SET * / INSERT *, WITH SCHEMA EVOLUTION) are
carried out step by step in one DuckDB transaction. A statement's simulated run
time is a timer, not a sleeping thread: HTTP threads only ever wait for a
client's own wait_timeout.

Run: python emulator.py --cert-dir DIR [--port N] [--control-port N]
     [--ready-file F] [--token T]... [--oauth-client ID:SECRET]...
"""

import argparse
import base64
import collections
import datetime
import decimal
import functools
import heapq
import http.server
import itertools
import json
import math
import os
import queue
import re
import secrets
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid

import duckdb
import sqlglot
from sqlglot import exp

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
WAREHOUSE_RE = re.compile(r'^[0-9a-f]{16}$')
REQUEST_ID_COMMENT_RE = re.compile(r'^\s*/\*\s*ironlayer_request_id=([0-9A-Za-z-]+)\s*\*/')
EVOLUTION_RE = re.compile(r'^(\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*)*)(INSERT|MERGE)\s+WITH\s+SCHEMA\s+EVOLUTION\s+INTO\b',
                          re.IGNORECASE | re.DOTALL)
COMMENTS_RE = re.compile(r'/\*.*?\*/|--[^\n]*', re.DOTALL)
WAIT_MSG = "The wait_timeout field must be 0 seconds (disables wait), or between 5 seconds and 50 seconds."
TERMINAL = ('SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED')
HISTORY_STATUS = {'PENDING': 'QUEUED', 'RUNNING': 'RUNNING', 'SUCCEEDED': 'FINISHED', 'FAILED': 'FAILED',
                  'CANCELED': 'CANCELED', 'CLOSED': 'FINISHED'}
STATEMENT_TYPES = {'ALTER', 'ANALYZE', 'COPY', 'CREATE', 'DELETE', 'DESCRIBE', 'DROP', 'EXPLAIN', 'GRANT',
                   'INSERT', 'MERGE', 'OPTIMIZE', 'REFRESH', 'REPLACE', 'REVOKE', 'SELECT', 'SET', 'SHOW',
                   'TRUNCATE', 'UPDATE', 'USE'}
ORG_ID = '1234567890123456'
USER_ID = 4242424242
USER_NAME = 'emulator@example.com'


def now_ms():
    return int(time.time() * 1000)


def new_statement_id():
    # Shaped like the recorded ids (01f1c46b-c6a4-1a9a-9f97-7eff37bf8459): a time-based UUID.
    return str(uuid.uuid1())


# ------------------------------------------------------------------ values

def java_double(x):
    """Java's Double.toString, which is how the warehouse writes DOUBLE and FLOAT."""
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    if x == 0:
        return '-0.0' if math.copysign(1, x) < 0 else '0.0'
    if 1e-3 <= abs(x) < 1e7:
        s = repr(x)
        if 'e' in s or 'E' in s:
            s = format(decimal.Decimal(s), 'f')
        if '.' not in s:
            s += '.0'
        return s
    sign, digits, exponent = decimal.Decimal(repr(x)).as_tuple()
    ds = ''.join(map(str, digits))
    exp10 = len(ds) + exponent - 1
    ds = ds.rstrip('0') or '0'
    mant = ds[0] + '.' + (ds[1:] or '0')
    return ('-' if sign else '') + mant + 'E' + str(exp10)


def leaf_json(v):
    if v is None:
        return None
    if isinstance(v, dict):
        return {str(k): leaf_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [leaf_json(x) for x in v]
    return encode_value(v)


def encode_value(v):
    """A value as data_array carries it: a string, or None for SQL NULL."""
    if v is None:
        return None
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return java_double(v)
    if isinstance(v, decimal.Decimal):
        return format(v, 'f')
    if isinstance(v, str):
        return v
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc)
            return v.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (v.microsecond // 1000)
        return v.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d' % (v.microsecond // 1000)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode('ascii')
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(leaf_json(v), separators=(',', ':'))
    return str(v)


def column_info(name, duck_type, position):
    t = str(duck_type).upper()
    info = {'name': name}
    simple = {'BOOLEAN': ('BOOLEAN', 'BOOLEAN'), 'TINYINT': ('BYTE', 'TINYINT'),
              'SMALLINT': ('SHORT', 'SMALLINT'), 'INTEGER': ('INT', 'INT'), 'BIGINT': ('LONG', 'BIGINT'),
              'UTINYINT': ('SHORT', 'SMALLINT'), 'USMALLINT': ('INT', 'INT'), 'UINTEGER': ('LONG', 'BIGINT'),
              'FLOAT': ('FLOAT', 'FLOAT'), 'DOUBLE': ('DOUBLE', 'DOUBLE'), 'VARCHAR': ('STRING', 'STRING'),
              'DATE': ('DATE', 'DATE'), 'TIMESTAMP WITH TIME ZONE': ('TIMESTAMP', 'TIMESTAMP'),
              'TIMESTAMP': ('TIMESTAMP_NTZ', 'TIMESTAMP_NTZ'), 'BLOB': ('BINARY', 'BINARY'),
              'INTERVAL': ('INTERVAL', 'INTERVAL'), 'UUID': ('STRING', 'STRING'), 'TIME': ('STRING', 'STRING'),
              '"NULL"': ('NULL', 'VOID'), 'NULL': ('NULL', 'VOID')}
    if t in simple:
        name_, text = simple[t]
    elif t in ('HUGEINT', 'UBIGINT', 'UHUGEINT'):
        info.update({'type_text': 'DECIMAL(38,0)', 'type_name': 'DECIMAL', 'position': position,
                     'type_precision': 38, 'type_scale': 0})
        return info
    elif t.startswith('DECIMAL'):
        m = re.match(r'DECIMAL\((\d+),\s*(\d+)\)', t)
        p, s = (int(m.group(1)), int(m.group(2))) if m else (18, 3)
        info.update({'type_text': 'DECIMAL(%d,%d)' % (p, s), 'type_name': 'DECIMAL', 'position': position,
                     'type_precision': p, 'type_scale': s})
        return info
    elif t.endswith(']'):
        name_, text = 'ARRAY', 'ARRAY<' + t.rsplit('[', 1)[0] + '>'
    elif t.startswith('STRUCT'):
        name_, text = 'STRUCT', t
    elif t.startswith('MAP'):
        name_, text = 'MAP', t
    elif t.startswith('TIMESTAMP'):
        name_, text = 'TIMESTAMP_NTZ', 'TIMESTAMP_NTZ'
    else:
        name_, text = 'STRING', 'STRING'
    info.update({'type_text': text, 'type_name': name_, 'position': position})
    return info


# ------------------------------------------------------------------ engine

class EngineError(Exception):
    def __init__(self, error_class, sql_state, message):
        super().__init__(message)
        self.error_class = error_class
        self.sql_state = sql_state
        self.message = message

    def text(self):
        return '[%s] %s SQLSTATE: %s' % (self.error_class, self.message, self.sql_state)


def map_duckdb_error(e):
    msg = str(e).split('\n')[0]
    for prefix in ('Catalog Error: ', 'Binder Error: ', 'Parser Error: ', 'Conversion Error: ',
                   'Constraint Error: ', 'Out of Range Error: ', 'Invalid Input Error: ', 'Not implemented Error: ',
                   'TransactionContext Error: ', 'Dependency Error: '):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if isinstance(e, duckdb.CatalogException):
        if 'Table with name' in msg or 'View with name' in msg or 'Table or view' in msg:
            return EngineError('TABLE_OR_VIEW_NOT_FOUND', '42P01', msg)
        if 'Schema with name' in msg or 'Catalog with name' in msg:
            return EngineError('SCHEMA_NOT_FOUND', '42704', msg)
        if 'already exists' in msg:
            return EngineError('TABLE_OR_VIEW_ALREADY_EXISTS', '42P07', msg)
        if 'Function with name' in msg:
            return EngineError('UNRESOLVED_ROUTINE', '42883', msg)
        return EngineError('INVALID_IDENTIFIER', '42602', msg)
    if isinstance(e, duckdb.BinderException):
        if 'column' in msg.lower() and ('not found' in msg or 'does not have a column' in msg
                                        or 'Referenced column' in msg):
            return EngineError('UNRESOLVED_COLUMN.WITH_SUGGESTION', '42703', msg)
        if 'columns but' in msg and 'values were supplied' in msg:
            return EngineError('INSERT_COLUMN_ARITY_MISMATCH', '21S01', msg)
        return EngineError('DATATYPE_MISMATCH', '42K09', msg)
    if isinstance(e, duckdb.ParserException):
        return EngineError('PARSE_SYNTAX_ERROR', '42601', msg)
    if isinstance(e, duckdb.ConversionException):
        return EngineError('CAST_INVALID_INPUT', '22018', msg)
    if isinstance(e, duckdb.OutOfRangeException):
        return EngineError('ARITHMETIC_OVERFLOW', '22003', msg)
    if isinstance(e, duckdb.ConstraintException):
        return EngineError('DELTA_VIOLATE_CONSTRAINT_WITH_VALUES', '23001', msg)
    if isinstance(e, duckdb.InterruptException):
        return EngineError('OPERATION_CANCELED', 'HY008', 'The operation was cancelled.')
    if isinstance(e, duckdb.NotImplementedException):
        return EngineError('UNSUPPORTED_FEATURE', '0A000', msg)
    return EngineError('INTERNAL_ERROR', 'XX000', msg)


def cte_names(tree):
    names = set()
    for cte in tree.find_all(exp.CTE):
        if cte.alias:
            names.add(cte.alias.lower())
    return names


def table_name(t):
    """A qualified exp.Table as duckdb text (quoted parts, no alias)."""
    parts = [p for p in (t.catalog, t.db, t.name) if p]
    return '.'.join('"%s"' % p.replace('"', '""') for p in parts)


@functools.lru_cache(maxsize=4096)
def translate(sql, catalog, schema):
    """Databricks SQL -> a plan: (kind, catalogs, data). Raises EngineError."""
    body = COMMENTS_RE.sub(' ', sql).strip().rstrip(';').strip()
    if not body:
        raise EngineError('PARSE_EMPTY_STATEMENT', '42617', 'Syntax error, unexpected empty statement.')
    evolution = False
    m = EVOLUTION_RE.match(sql)
    if m:
        evolution = True
        sql = sql[:m.start(2)] + m.group(2) + ' INTO' + sql[m.end():]
    try:
        trees = [t for t in sqlglot.parse(sql, read='databricks') if t is not None]
    except sqlglot.errors.ParseError as e:
        raise EngineError('PARSE_SYNTAX_ERROR', '42601', 'Syntax error: %s' % str(e).split('\n')[0])
    if len(trees) != 1:
        raise EngineError('PARSE_SYNTAX_ERROR', '42601', "Syntax error at or near ';'.")
    tree = trees[0]
    ctes = cte_names(tree)
    catalogs = set()
    schema_target = None
    if isinstance(tree, exp.Create) and (tree.kind or '').upper() in ('SCHEMA', 'DATABASE') and \
            isinstance(tree.this, exp.Table):
        # CREATE SCHEMA `c`.`s` parses as a table with db s and catalog c.
        schema_target = tree.this
        if not schema_target.catalog:
            schema_target.set('catalog', exp.to_identifier(catalog, quoted=True))
        catalogs.add(schema_target.catalog.lower())
    for t in tree.find_all(exp.Table):
        if t is schema_target or not isinstance(t.this, exp.Identifier):
            continue                        # the schema itself, or a table function
        if not t.db and t.name.lower() in ctes:
            continue
        if not t.db:
            t.set('db', exp.to_identifier(schema, quoted=True))
        if not t.catalog:
            t.set('catalog', exp.to_identifier(catalog, quoted=True))
        catalogs.add(t.catalog.lower())
    gen = _gen
    if isinstance(tree, exp.Create) and (tree.kind or '').upper() in ('SCHEMA', 'DATABASE') and \
            tree.args.get('exists') and isinstance(tree.this, exp.Table):
        return ('schema', frozenset(catalogs), ((tree.this.catalog.lower(), tree.this.db.lower()), gen(tree)))
    if isinstance(tree, exp.Insert) and tree.args.get('where') is not None:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return ('replace_where', frozenset(catalogs), (table_name(target), gen(tree.args['where']),
                                                        gen(tree.expression), evolution))
    if isinstance(tree, exp.Merge):
        plan = merge_plan(tree, evolution)
        if plan is not None:
            return ('merge', frozenset(catalogs), plan)
    if isinstance(tree, exp.Insert) and evolution:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return ('insert_evolve', frozenset(catalogs), (table_name(target), gen(tree.expression)))
    kind = 'query'
    if isinstance(tree, exp.Insert):
        kind = 'insert'
    elif isinstance(tree, (exp.Update, exp.Delete)):
        kind = 'update'
    elif isinstance(tree, exp.Create):
        kind = 'ctas' if (tree.kind or '').upper() == 'TABLE' and tree.expression is not None else 'ddl'
    elif isinstance(tree, (exp.Drop, exp.Alter, exp.Command, exp.Use, exp.Set, exp.TruncateTable)):
        kind = 'ddl'
    return (kind, frozenset(catalogs), gen(tree))


STRING_OR_IDENT_RE = re.compile(r"('(?:[^'\\]|\\.)*')|`((?:[^`]|``)*)`")
PLACEHOLDER_RE = re.compile(r'"(__il\d+__)"|(__il\d+__)')


def translate_templated(sql, catalog, schema):
    """translate() through a template: backticked names that appear nowhere else unquoted become
    placeholders, so statements that differ only in such names (every step's own table) share one
    translation."""
    names = {}
    bare = None

    def sub(m):
        nonlocal bare
        if m.group(1) is not None:
            return m.group(0)
        name = m.group(2).replace('``', '`')
        if name not in names:
            if bare is None:
                bare = set(w.lower() for w in re.findall(r'\w+', STRING_OR_IDENT_RE.sub(' ', sql)))
            if name.lower() in bare or not re.match(r'^\w+$', name) or name.startswith('__il'):
                names[name] = None
            else:
                names[name] = '__il%d__' % len(names)
        ph = names[name]
        return m.group(0) if ph is None else '`%s`' % ph

    templ = STRING_OR_IDENT_RE.sub(sub, sql)
    back = {ph: n for n, ph in names.items() if ph is not None}
    if not back:
        return translate(sql, catalog, schema)

    def fill(x):
        if isinstance(x, str):
            return PLACEHOLDER_RE.sub(lambda m: q(back[m.group(1)]) if m.group(1) else back[m.group(2)], x)
        if isinstance(x, tuple):
            return tuple(fill(v) for v in x)
        if isinstance(x, frozenset):
            return frozenset(fill(v).lower() for v in x)
        return x
    try:
        kind, catalogs, data = translate(templ, catalog, schema)
    except EngineError as e:
        raise EngineError(e.error_class, e.sql_state, fill(e.message))
    if kind == 'schema':
        (c, sch), text = data
        return kind, fill(catalogs), ((fill(c).lower(), fill(sch).lower()), fill(text))
    return kind, fill(catalogs), fill(data)


def _gen(node):
    return node.sql(dialect='duckdb', identify=True)


def merge_plan(tree, evolution):
    whens = tree.args.get('whens')
    clauses = whens.expressions if whens is not None else tree.args.get('expressions') or []
    update_star = insert_star = False
    for w in clauses:
        then = w.args.get('then')
        matched = w.args.get('matched')
        if w.args.get('condition') is not None:
            return None
        if matched and isinstance(then, exp.Update) and then.args.get('expressions') and \
                all(isinstance(x, exp.Star) for x in then.expressions):
            update_star = True
        elif not matched and isinstance(then, exp.Insert) and isinstance(then.this, exp.Star):
            insert_star = True
        else:
            return None
    target = tree.this
    talias = target.alias or target.name
    using = tree.args.get('using')
    salias = using.alias or (using.name if isinstance(using, exp.Table) else 's')
    if isinstance(using, exp.Subquery):
        src = _gen(using.this)
    else:
        u = using.copy()
        u.set('alias', None)
        src = 'SELECT * FROM ' + _gen(u)
    return (table_name(target), talias, salias, src, _gen(tree.args['on']), update_star, insert_star, evolution)


def q(ident):
    return '"%s"' % ident.replace('"', '""')


class Engine:
    """The one DuckDB database; every use holds self.lock."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self.con = duckdb.connect(path)
        self.con.execute("SET TimeZone = 'UTC'")
        self.attached = set()
        self.schemas = set()                # (catalog, schema) known to exist

    def ensure_catalogs(self, catalogs):
        for c in catalogs:
            if c in self.attached:
                continue
            try:
                self.con.execute('ATTACH \':memory:\' AS %s' % q(c))
            except duckdb.Error:
                pass                        # attached already (e.g. memory)
            try:
                self.con.execute('CREATE SCHEMA IF NOT EXISTS %s."default"' % q(c))
            except duckdb.Error:
                pass
            self.attached.add(c)

    def run(self, sql, catalog='workspace', schema='default'):
        """Execute one statement. Returns (columns, rows); columns = [(name, duck_type)]."""
        m = REQUEST_ID_COMMENT_RE.match(sql)
        if m:
            sql = sql[m.end():]                 # so that repeated statements hit translate's cache
        kind, catalogs, data = translate_templated(sql, catalog.lower(), schema.lower())
        with self.lock:
            self.ensure_catalogs(catalogs | {catalog.lower()})
            con = self.con
            if kind in ('query', 'ddl', 'ctas', 'insert', 'update', 'schema'):
                # One DuckDB statement: atomic on its own (the cheap path).
                try:
                    return getattr(self, '_run_' + kind)(data)
                except duckdb.Error as e:
                    raise map_duckdb_error(e)
            try:
                try:
                    con.execute('BEGIN')
                except duckdb.TransactionException:
                    con.execute('ROLLBACK')         # never leave one open to the next statement
                    con.execute('BEGIN')
                try:
                    result = getattr(self, '_run_' + kind)(data)
                except Exception:
                    try:
                        con.execute('ROLLBACK')
                    except duckdb.Error:
                        pass
                    raise
                con.execute('COMMIT')
                return result
            except EngineError:
                raise
            except duckdb.Error as e:
                raise map_duckdb_error(e)
            finally:
                for t in ('__il_new', '__il_src'):
                    try:
                        con.execute('DROP TABLE IF EXISTS temp.main.%s' % t)
                    except duckdb.Error:
                        pass

    def _run_query(self, sql):
        cur = self.con.execute(sql)
        if cur.description is None:
            return [], []
        cols = [(d[0], d[1]) for d in cur.description]
        return cols, cur.fetchall()

    def _run_ddl(self, sql):
        self.schemas.clear()                # a DROP may have removed one
        self.con.execute(sql)
        return [], []

    def _run_schema(self, data):
        key, sql = data
        if key not in self.schemas:         # the cheap path of every step's first statement
            self.con.execute(sql)
            self.schemas.add(key)
        return [], []

    def _counts(self, **kw):
        cols = [(k, 'BIGINT') for k in kw]
        return cols, [tuple(kw.values())]

    def _run_insert(self, sql):
        n = self.con.execute(sql).fetchall()[0][0]
        return self._counts(num_affected_rows=n, num_inserted_rows=n)

    def _run_update(self, sql):
        n = self.con.execute(sql).fetchall()[0][0]
        return self._counts(num_affected_rows=n)

    def _run_ctas(self, sql):
        cur = self.con.execute(sql)
        got = cur.fetchall() if cur.description else []
        n = got[0][0] if got else 0                 # IF NOT EXISTS on an existing table: no row
        return self._counts(num_affected_rows=n, num_inserted_rows=n)

    def _columns(self, table):
        cur = self.con.execute('SELECT * FROM %s LIMIT 0' % table)
        return [(d[0], str(d[1])) for d in cur.description]

    def _evolve(self, table, src):
        have = {c.lower() for c, _ in self._columns(table)}
        for c, t in self._columns(src):
            if c.lower() not in have:
                self.con.execute('ALTER TABLE %s ADD COLUMN %s %s' % (table, q(c), t))

    def _run_insert_evolve(self, data):
        table, query = data
        con = self.con
        con.execute('CREATE TEMP TABLE __il_src AS ' + query)
        self._evolve(table, '__il_src')
        n = con.execute('INSERT INTO %s BY NAME SELECT * FROM __il_src' % table).fetchall()[0][0]
        return self._counts(num_affected_rows=n, num_inserted_rows=n)

    def _run_replace_where(self, data):
        table, pred, query, evolution = data
        con = self.con
        con.execute('CREATE TEMP TABLE __il_new AS SELECT * FROM %s LIMIT 0' % table)
        if evolution:
            con.execute('CREATE TEMP TABLE __il_src AS ' + query)
            self._evolve(table, '__il_src')
            con.execute('DROP TABLE temp.main.__il_new')
            con.execute('CREATE TEMP TABLE __il_new AS SELECT * FROM %s LIMIT 0' % table)
            con.execute('INSERT INTO __il_new BY NAME SELECT * FROM __il_src')
        else:
            con.execute('INSERT INTO __il_new ' + query)
        bad = con.execute('SELECT count(*) FROM __il_new WHERE NOT coalesce((%s), false)' % pred).fetchall()[0][0]
        if bad:
            raise EngineError('DELTA_REPLACE_WHERE_MISMATCH', '44000',
                              "Written data does not conform to partial table overwrite condition or constraint "
                              "'%s'. %d row(s) fall outside it." % (pred, bad))
        con.execute('DELETE FROM %s WHERE %s' % (table, pred))
        n = con.execute('INSERT INTO %s SELECT * FROM __il_new' % table).fetchall()[0][0]
        return self._counts(num_affected_rows=n, num_inserted_rows=n)

    def _run_merge(self, data):
        table, talias, salias, src, on, update_star, insert_star, evolution = data
        con = self.con
        con.execute('CREATE TEMP TABLE __il_src AS ' + src)
        if evolution:
            self._evolve(table, '__il_src')
        tcols = [c for c, _ in self._columns(table)]
        scols = {c.lower(): c for c, _ in self._columns('__il_src')}
        missing = [c for c in tcols if c.lower() not in scols]
        if missing:
            raise EngineError('DELTA_MERGE_UNRESOLVED_EXPRESSION', '42601',
                              'Cannot resolve %s.%s in UPDATE clause given columns %s.'
                              % (talias, missing[0], ', '.join('%s.%s' % (salias, c) for c in scols.values())))
        ta, sa = q(talias), q(salias)
        dup = con.execute('SELECT count(*) FROM (SELECT %s.rowid FROM %s AS %s JOIN __il_src AS %s ON %s '
                          'GROUP BY %s.rowid HAVING count(*) > 1)' % (ta, table, ta, sa, on, ta)).fetchall()[0][0]
        if dup:
            raise EngineError('DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE', '21506',
                              'Cannot perform Merge as multiple source rows matched and attempted to modify the '
                              'same target row in the Delta table in possibly conflicting ways.')
        updated = inserted = 0
        if update_star:
            sets = ', '.join('%s = %s.%s' % (q(c), sa, q(scols[c.lower()])) for c in tcols)
            updated = con.execute('UPDATE %s AS %s SET %s FROM __il_src AS %s WHERE %s'
                                  % (table, ta, sets, sa, on)).fetchall()[0][0]
        if insert_star:
            cols = ', '.join(q(c) for c in tcols)
            vals = ', '.join('%s.%s' % (sa, q(scols[c.lower()])) for c in tcols)
            inserted = con.execute('INSERT INTO %s (%s) SELECT %s FROM __il_src AS %s WHERE NOT EXISTS '
                                   '(SELECT 1 FROM %s AS %s WHERE %s)'
                                   % (table, cols, vals, sa, table, ta, on)).fetchall()[0][0]
        return self._counts(num_affected_rows=updated + inserted, num_updated_rows=updated,
                            num_deleted_rows=0, num_inserted_rows=inserted)

    def table_rows(self, name):
        parts = [p.strip('`"') for p in re.findall(r'`(?:[^`]|``)*`|"[^"]*"|[^.]+', name)]
        with self.lock:
            self.ensure_catalogs({parts[0].lower()} if len(parts) == 3 else set())
            cur = self.con.execute('SELECT * FROM %s' % '.'.join(q(p) for p in parts))
            cols = [column_info(d[0], d[1], i) for i, d in enumerate(cur.description)]
            rows = [[encode_value(v) for v in r] for r in cur.fetchall()]
        rows.sort(key=lambda r: [(v is not None, v or '') for v in r])
        return cols, rows

    def load_csv(self, name, path, types):
        """CREATE OR REPLACE TABLE name (catalog.schema.table) from a CSV file with a header line."""
        parts = [p.strip('`"') for p in re.findall(r'`(?:[^`]|``)*`|"[^"]*"|[^.]+', name)]
        if len(parts) != 3:
            raise ValueError('table must be catalog.schema.table')
        lit = lambda v: "'%s'" % str(v).replace("'", "''")
        opts = ''
        if types:
            opts = ', types = {%s}' % ', '.join('%s: %s' % (lit(k), lit(v)) for k, v in types.items())
        with self.lock:
            self.ensure_catalogs({parts[0].lower()})
            self.con.execute('CREATE SCHEMA IF NOT EXISTS %s.%s' % (q(parts[0]), q(parts[1])))
            self.con.execute('CREATE OR REPLACE TABLE %s AS SELECT * FROM read_csv(%s, header = true%s)'
                             % ('.'.join(q(p) for p in parts), lit(path), opts))
            return self.con.execute('SELECT count(*) FROM %s' % '.'.join(q(p) for p in parts)).fetchall()[0][0]

    def raw(self, sql):
        with self.lock:
            cur = self.con.execute(sql)
            if cur.description is None:
                return [], []
            return [d[0] for d in cur.description], [[encode_value(v) for v in r] for r in cur.fetchall()]


# ------------------------------------------------------------------ statements

class Statement:
    __slots__ = ('id', 'text', 'request_id', 'tags', 'warehouse_id', 'catalog', 'schema', 'state', 'error_class',
                 'message', 'sql_state', 'columns', 'rows', 'truncated', 'created_ms', 'started_ms', 'ended_ms',
                 'done', 'hang', 'fail', 'row_limit', 'executing', 'latency_ms', 'executed')

    def __init__(self, sid, text, body):
        self.id = sid
        self.text = text
        self.tags = [t for t in body.get('query_tags') or [] if isinstance(t, dict)][:20]
        rid = None
        for t in self.tags:
            if t.get('key') == 'ironlayer_request_id' and isinstance(t.get('value'), str):
                rid = t['value']
        if rid is None:
            m = REQUEST_ID_COMMENT_RE.match(text)
            rid = m.group(1) if m else None
        self.request_id = rid
        self.warehouse_id = body.get('warehouse_id')
        self.catalog = body.get('catalog') if isinstance(body.get('catalog'), str) else 'workspace'
        self.schema = body.get('schema') if isinstance(body.get('schema'), str) else 'default'
        self.state = 'PENDING'
        self.error_class = self.message = self.sql_state = None
        self.columns = []
        self.rows = []
        self.truncated = False
        self.created_ms = now_ms()
        self.started_ms = self.ended_ms = None
        self.done = threading.Event()
        self.hang = False
        self.fail = None
        self.executing = False
        self.executed = False
        self.latency_ms = 0
        rl = body.get('row_limit')
        try:
            self.row_limit = int(rl) if rl is not None else None
        except (TypeError, ValueError):
            self.row_limit = None


class Emulator:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.engine = Engine(args.db)
        self.start_auth = (set(args.token or []), dict(c.split(':', 1) for c in (args.oauth_client or [])),
                           set(args.warehouse or []))
        self.issued = {}                    # oauth access token -> expiry (epoch s)
        self.defaults = {'latency_ms': args.latency_ms, 'token_ttl_s': args.token_ttl,
                         'history_lag_ms': args.history_lag_ms, 'chunk_rows': 10000,
                         'statement_expiry_s': 12 * 3600, 'byte_counts': False}
        self.reset(data=False)
        self.exec_queue = queue.Queue()
        self.timers = []
        self.timer_cv = threading.Condition()
        self.seq = itertools.count()
        threading.Thread(target=self._timer_loop, name='timers', daemon=True).start()
        threading.Thread(target=self._exec_loop, name='executor', daemon=True).start()

    def reset(self, data=False):
        with self.lock:
            self.config = dict(self.defaults)
            self.pat_tokens = set(self.start_auth[0])
            self.oauth_clients = dict(self.start_auth[1])
            self.warehouses = set(self.start_auth[2])
            self.statements = {}
            self.history = []
            self.log = []
            self.executions = collections.Counter()
            self.rules = []
            self.faults = []
        if data:
            with self.engine.lock:
                for c in sorted(self.engine.attached):
                    try:
                        self.engine.con.execute('DETACH %s' % q(c))
                    except duckdb.Error:
                        pass
                self.engine.attached.clear()
                self.engine.schemas.clear()
                translate.cache_clear()

    # -------------------------------------------------- lifecycle of a statement
    def create(self, body, text):
        st = Statement(new_statement_id(), text, body)
        latency = self.config['latency_ms']
        with self.lock:
            for r in self.rules:
                if not self._rule_matches(r, st):
                    continue
                if r.get('times') is not None:
                    if r['times'] <= 0:
                        continue
                    r['times'] -= 1
                act = r.get('action', 'fail')
                if act == 'hang':
                    st.hang = True
                elif act == 'fail':
                    st.fail = r
                if r.get('latency_ms') is not None:
                    latency = r['latency_ms']
                break
            st.latency_ms = latency
            self.statements[st.id] = st
            self.history.append(st)
        return st

    def start(self, st):
        """After the POST answer's state was taken: the statement runs."""
        with self.lock:
            if st.state != 'PENDING':
                return
            st.state = 'RUNNING'
            st.started_ms = now_ms()
        if st.hang:
            return
        if st.latency_ms and st.latency_ms > 0:
            due = time.monotonic() + st.latency_ms / 1000.0
            with self.timer_cv:
                heapq.heappush(self.timers, (due, next(self.seq), st))
                self.timer_cv.notify()
        else:
            self.exec_queue.put(st)

    def _timer_loop(self):
        while True:
            with self.timer_cv:
                while not self.timers:
                    self.timer_cv.wait()
                due, _, st = self.timers[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self.timer_cv.wait(wait)
                    continue
                heapq.heappop(self.timers)
            self.exec_queue.put(st)

    def _exec_loop(self):
        while True:
            st = self.exec_queue.get()
            with self.lock:
                if st.state != 'RUNNING':
                    continue
                st.executing = True
            state, result, err = 'SUCCEEDED', ([], []), None
            if st.fail is not None:
                r = st.fail
                err = EngineError(r.get('error_class', 'INTERNAL_ERROR'), r.get('sql_state', 'XX000'),
                                  r.get('message', 'Injected failure.'))
                state = 'FAILED'
            else:
                try:
                    with self.lock:
                        if st.request_id:
                            self.executions[st.request_id] += 1
                        st.executed = True
                    result = self.engine.run(st.text, st.catalog, st.schema)
                except EngineError as e:
                    state, err = 'FAILED', e
                except Exception as e:          # never let the executor die
                    state, err = 'FAILED', EngineError('INTERNAL_ERROR', 'XX000', str(e).split('\n')[0])
            with self.lock:
                st.executing = False
                if st.state == 'RUNNING':
                    st.state = state
                    if err is not None:
                        st.error_class, st.sql_state, st.message = err.error_class, err.sql_state, err.text()
                    else:
                        cols, rows = result
                        if st.row_limit is not None and len(rows) > st.row_limit:
                            rows, st.truncated = rows[:st.row_limit], True
                        st.columns = [column_info(n, t, i) for i, (n, t) in enumerate(cols)]
                        st.rows = [[encode_value(v) for v in r] for r in rows]
                st.ended_ms = st.ended_ms or now_ms()
                st.done.set()

    def cancel(self, st):
        with self.lock:
            if st.state in TERMINAL or st.executing:
                return                  # too late: like the warehouse, cancel silently fails
            st.state = 'CANCELED'
            st.ended_ms = now_ms()
            st.done.set()

    @staticmethod
    def _rule_matches(r, st):
        if r.get('request_id') and r['request_id'] != st.request_id:
            return False
        if r.get('match') and r['match'] not in st.text:
            return False
        return bool(r.get('request_id') or r.get('match') is not None)

    def get(self, sid):
        with self.lock:
            st = self.statements.get(sid)
            if st is None:
                return None
            if st.state in TERMINAL and st.ended_ms is not None and \
                    now_ms() - st.ended_ms > self.config['statement_expiry_s'] * 1000:
                del self.statements[sid]
                return None
            return st

    # -------------------------------------------------- answers
    def chunks_of(self, st):
        n = max(1, int(self.config['chunk_rows']))
        return [(i, st.rows[i:i + n]) for i in range(0, len(st.rows), n)]

    def result_data(self, st, index, chunks):
        off, rows = chunks[index]
        d = {'chunk_index': index, 'row_offset': off, 'row_count': len(rows)}
        if self.config['byte_counts']:
            d['byte_count'] = len(json.dumps(rows, separators=(',', ':')))
        d['data_array'] = rows
        if index + 1 < len(chunks):
            d['next_chunk_index'] = index + 1
            d['next_chunk_internal_link'] = '/api/2.0/sql/statements/%s/result/chunks/%d?row_offset=%d' % (
                st.id, index + 1, chunks[index + 1][0])
        return d

    def statement_json(self, st, state=None):
        state = state or st.state
        d = {'statement_id': st.id, 'status': {'state': state}}
        if state == 'FAILED':
            d['status']['error'] = {'error_code': 'BAD_REQUEST', 'message': st.message}
            d['status']['sql_state'] = st.sql_state
        elif state == 'SUCCEEDED':
            chunks = self.chunks_of(st)
            schema = {'column_count': len(st.columns)}
            if st.columns:
                schema['columns'] = st.columns
            man = {'format': 'JSON_ARRAY', 'schema': schema, 'total_chunk_count': len(chunks)}
            if chunks:
                man['chunks'] = []
                for i, (off, rows) in enumerate(chunks):
                    c = {'chunk_index': i, 'row_offset': off, 'row_count': len(rows)}
                    if self.config['byte_counts']:
                        c['byte_count'] = len(json.dumps(rows, separators=(',', ':')))
                    man['chunks'].append(c)
            man['total_row_count'] = len(st.rows)
            if self.config['byte_counts']:
                man['total_byte_count'] = sum(c.get('byte_count', 0) for c in man.get('chunks', []))
            man['truncated'] = st.truncated
            d['manifest'] = man
            d['result'] = self.result_data(st, 0, chunks) if chunks else {}
        return d

    def history_item(self, st):
        state = HISTORY_STATUS[st.state]
        words = COMMENTS_RE.sub(' ', st.text).split()
        stype = words[0].upper() if words else 'OTHER'
        d = {'query_id': st.id, 'status': state, 'query_text': st.text,
             'query_start_time_ms': st.created_ms, 'user_id': USER_ID, 'user_name': USER_NAME,
             'executed_as_user_id': USER_ID, 'executed_as_user_name': USER_NAME,
             'warehouse_id': st.warehouse_id, 'endpoint_id': st.warehouse_id,
             'statement_type': stype if stype in STATEMENT_TYPES else 'OTHER',
             'is_final': st.state in TERMINAL, 'lookup_key': base64.b64encode(st.id.encode()).decode()}
        if st.tags:
            d['query_tags'] = st.tags
        if st.ended_ms is not None:
            d['execution_end_time_ms'] = st.ended_ms
            d['query_end_time_ms'] = st.ended_ms
            d['duration'] = st.ended_ms - st.created_ms
        if st.state == 'FAILED':
            d['error_message'] = st.message
        if st.state == 'SUCCEEDED':
            d['rows_produced'] = len(st.rows)
        return d


# ------------------------------------------------------------------ HTTP

def error_body(code, message, rid, violations=None):
    details = []
    if violations:
        details.append({'@type': 'type.googleapis.com/google.rpc.BadRequest',
                        'field_violations': [{'field': f, 'description': d} for f, d in violations]})
    details.append({'@type': 'type.googleapis.com/google.rpc.RequestInfo', 'request_id': rid, 'serving_data': ''})
    return {'error_code': code, 'message': message, 'details': details}


FAULT_TEXT = {
    429: ('REQUEST_LIMIT_EXCEEDED', 'Too many requests. Please try again later.'),
    500: ('INTERNAL_ERROR', 'Unexpected internal server error.'),
    502: ('BAD_GATEWAY', 'Bad gateway.'),
    503: ('TEMPORARILY_UNAVAILABLE', 'No webapps are available to handle your request. Please try again later.'),
    504: ('DEADLINE_EXCEEDED', 'The request timed out.'),
}


class Headers(dict):
    """Request headers by lower-case name (the standard library's email parser costs more than the rest
    of a request)."""

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)


REQUEST_IDS = itertools.count()
REQUEST_ID_PREFIX = str(uuid.uuid4())[:24]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'databricks'
    sys_version = ''
    emu = None                              # set on the class by main()
    control_only = False

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # -------------------------------------------------- plumbing
    def handle_one_request(self):
        self.close_connection = True
        line = self.rfile.readline(65537)
        if not line or len(line) > 65536:
            return
        parts = line.decode('latin-1').split()
        if len(parts) != 3 or not parts[2].startswith('HTTP/'):
            return
        self.command, self.path, self.request_version = parts
        headers = Headers()
        while True:
            h = self.rfile.readline(65537)
            if h in (b'\r\n', b'\n', b''):
                break
            k, _, v = h.decode('latin-1').partition(':')
            headers[k.strip().lower()] = v.strip()
            if len(headers) > 200:
                return
        self.headers = headers
        conn = headers.get('connection', '').lower()
        self.close_connection = conn == 'close' or (self.request_version == 'HTTP/1.0' and conn != 'keep-alive')
        if headers.get('expect', '').lower() == '100-continue':
            self.wfile.write(b'HTTP/1.1 100 Continue\r\n\r\n')
        self._handle(self.command)
        self.wfile.flush()

    def _read_body(self):
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            out = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n > 0 else b''

    def _send(self, status, body, ctype='application/json', headers=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body, separators=(',', ':')).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b''
        head = ['HTTP/1.1 %d %s' % (status, http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else 'Status'),
                'Server: databricks', 'X-Request-Id: ' + self.rid, 'X-Databricks-Org-Id: ' + ORG_ID,
                'Server-Timing: request_ttfb_msec;dur=1', 'Vary: Accept-Encoding',
                'Content-Length: %d' % len(data)]
        if data or ctype:
            head.append('Content-Type: ' + ctype)
        for k, v in (headers or {}).items():
            head.append('%s: %s' % (k, v))
        if self.close_connection:
            head.append('Connection: close')
        if self.status != -1:
            self.status = status
            self._record()                  # before the answer: a client reads the log after it
        self.wfile.write(('\r\n'.join(head) + '\r\n\r\n').encode() + data)

    def _error(self, status, code, message, violations=None, headers=None):
        self._send(status, error_body(code, message, self.rid, violations), headers=headers)

    def _drop(self):
        self.close_connection = True
        self.status = 0
        self._record()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self._handle('GET')

    def do_POST(self):
        self._handle('POST')

    def do_DELETE(self):
        self._handle('DELETE')

    def do_PUT(self):
        self._handle('PUT')

    def do_PATCH(self):
        self._handle('PATCH')

    def _handle(self, method):
        self.rid = '%s%012x' % (REQUEST_ID_PREFIX, next(REQUEST_IDS))
        self.status = 0
        self.logged = False
        self.route = None
        self.log_extra = {}
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if len(path) > 1 and path.endswith('/'):
            path = path.rstrip('/')
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        if path.startswith('/_emulator/') or path == '/_emulator':
            try:
                self._control(method, path, url.query, body)
            except Exception as e:
                self._send(500, {'error': '%s: %s' % (type(e).__name__, e)})
            return
        if self.control_only:
            self.status = -1                # not logged
            self._send(404, {'error': 'this port serves /_emulator/ only'})
            return
        self.route = self._route_name(method, path)
        try:
            self._api(method, path, url.query, body, self.route)
        finally:
            self._record()

    def _record(self):
        """The request's entry in the log, once."""
        if self.logged or self.status == -1:
            return
        self.logged = True
        entry = {'time_ms': now_ms(), 'method': self.command, 'path': self.path, 'route': self.route,
                 'status': self.status}
        entry.update(self.log_extra)
        with self.emu.lock:
            if len(self.emu.log) < 500000:
                self.emu.log.append(entry)

    @staticmethod
    def _route_name(method, path):
        p = path.split('/')
        if path == '/api/2.0/sql/statements' and method == 'POST':
            return 'statements.create'
        if path.startswith('/api/2.0/sql/statements/'):
            if len(p) == 6 and method == 'GET':
                return 'statements.get'
            if len(p) == 6 and method == 'DELETE':
                return 'statements.delete'
            if len(p) == 7 and p[6] == 'cancel' and method == 'POST':
                return 'statements.cancel'
            if len(p) == 9 and p[6] == 'result' and p[7] == 'chunks' and method == 'GET':
                return 'statements.chunk'
        if path == '/api/2.0/sql/history/queries' and method == 'GET':
            return 'history'
        if path == '/oidc/v1/token':
            return 'token'
        if path == '/oidc/.well-known/oauth-authorization-server':
            return 'wellknown'
        if path == '/.well-known/databricks-config':
            return 'hostmeta'
        return 'other'

    def _take_fault(self, route):
        emu = self.emu
        with emu.lock:
            for f in emu.faults:
                if f.get('route', '*') not in ('*', route):
                    continue
                if f['count'] <= 0:
                    continue
                f['count'] -= 1
                return dict(f)
        return None

    def _fault_answer(self, f):
        status = int(f.get('status', 503))
        code, msg = FAULT_TEXT.get(status, ('UNKNOWN', 'Injected error.'))
        code = f.get('error_code', code)
        msg = f.get('message', msg)
        headers = {}
        if f.get('retry_after') is not None:
            headers['Retry-After'] = str(f['retry_after'])
        kind = f.get('body', 'json')
        self.log_extra['fault'] = 'respond' if kind == 'json' else kind
        if kind == 'html':
            text = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
                    '<title>Error %d %s</title>\n</head>\n<body><h2>HTTP ERROR %d</h2>\n<pre>%s</pre>\n'
                    '</body>\n</html>\n' % (status, msg, status, msg))
            self._send(status, text, 'text/html;charset=utf-8', headers)
        elif kind == 'plain':
            self._send(status, '%s: %s' % (code, msg), 'text/plain', headers)
        elif kind == 'empty':
            self._send(status, b'', '', headers)
        else:
            self._error(status, code, msg, headers=headers)

    # -------------------------------------------------- the API
    def _auth(self):
        """True when authorized; otherwise answers 401/403 and returns False."""
        h = self.headers.get('Authorization') or ''
        if not h.lower().startswith('bearer '):
            self._send(401, {'error_code': 401,
                             'message': 'Credential was not sent or was of an unsupported type for this API.'},
                       headers={'WWW-Authenticate': 'Bearer realm="DatabricksRealm"'})
            return False
        tok = h[7:].strip()
        emu = self.emu
        if tok in emu.pat_tokens:
            return True
        exp_at = emu.issued.get(tok)
        if exp_at is not None and time.time() < exp_at:
            return True
        self.log_extra['auth'] = 'expired' if exp_at is not None else 'invalid'
        self._send(403, {'error_code': 403, 'message': 'Invalid access token. [ReqId: %s]' % self.rid},
                   headers={'X-Databricks-Reason-Phrase': 'Invalid access token.'})
        return False

    def _api(self, method, path, query, body, route):
        emu = self.emu
        fault = self._take_fault(route)
        if fault is not None:
            if fault.get('delay_ms'):
                time.sleep(fault['delay_ms'] / 1000.0)
            act = fault.get('action', 'respond')
            if act == 'drop':
                self.log_extra['fault'] = 'drop'
                self._drop()
                return
            if act == 'respond':
                self._fault_answer(fault)
                return
        if route == 'wellknown':
            base = 'https://%s' % (self.headers.get('Host') or '127.0.0.1')
            self._send(200, {'authorization_endpoint': base + '/oidc/v1/authorize',
                             'token_endpoint': base + '/oidc/v1/token', 'issuer': base + '/oidc',
                             'jwks_uri': base + '/oidc/jwks.json',
                             'grant_types_supported': ['client_credentials', 'authorization_code', 'refresh_token'],
                             'token_endpoint_auth_methods_supported': ['client_secret_basic', 'client_secret_post']})
            return
        if route == 'token':
            self._token(method, body)
            return
        if route == 'hostmeta':
            # Host discovery of current SDKs (databricks-sdk-py >= 0.7x): where the OIDC endpoints are.
            base = 'https://%s' % (self.headers.get('Host') or '127.0.0.1')
            self._send(200, {'oidc_endpoint': base + '/oidc', 'workspace_id': ORG_ID})
            return
        if not path.startswith('/api/'):
            self._error(404, 'ENDPOINT_NOT_FOUND', "No API found for '%s %s'" % (method, path))
            return
        if not self._auth():
            return
        if route == 'statements.create':
            self._create(body, fault)
        elif route in ('statements.get', 'statements.delete', 'statements.cancel', 'statements.chunk'):
            sid = path.split('/')[5]
            self.log_extra['statement_id'] = sid
            if not UUID_RE.match(sid):
                self._error(400, 'INVALID_PARAMETER_VALUE', 'Error while parsing type: statement_id.')
                return
            st = emu.get(sid)
            if route == 'statements.cancel':
                if st is not None:
                    emu.cancel(st)
                self._send(200, {})
            elif route == 'statements.delete':
                self._send(200, {})
            elif st is None:
                self._error(404, 'NOT_FOUND', 'The statement %s was not found.' % sid)
            elif route == 'statements.get':
                with emu.lock:
                    ans = emu.statement_json(st)
                self._send(200, ans)
            else:
                self._chunk(st, path.split('/')[8])
        elif route == 'history':
            self._history(query, body)
        elif path.startswith('/api/2.0/sql/statements'):
            short = path[len('/api/2.0'):]
            if short.startswith('/sql/statements/') and method != 'POST':
                short = '/sql/statements'
            self._error(404, 'ENDPOINT_NOT_FOUND', "No API found for '%s %s'" % (method, short))
        elif path.startswith('/api/2.0/sql/'):
            self._send(404, b'', '')
        else:
            self._error(404, 'ENDPOINT_NOT_FOUND', "No API found for '%s %s'" % (method, path[len('/api'):]))

    def _token(self, method, body):
        emu = self.emu
        if method != 'POST':
            self._send(405, {'error': 'invalid_request', 'error_description': 'POST only'})
            return
        form = urllib.parse.parse_qs(body.decode('utf-8', 'replace'))
        cid = csec = None
        h = self.headers.get('Authorization') or ''
        if h.lower().startswith('basic '):
            try:
                cid, csec = base64.b64decode(h[6:].strip()).decode().split(':', 1)
            except (ValueError, UnicodeDecodeError):
                pass
        cid = cid or (form.get('client_id') or [None])[0]
        csec = csec or (form.get('client_secret') or [None])[0]
        self.log_extra['client_id'] = cid
        if (form.get('grant_type') or [None])[0] != 'client_credentials':
            self._send(400, {'error': 'unsupported_grant_type',
                             'error_description': 'grant_type must be client_credentials'})
            return
        if cid is None or emu.oauth_clients.get(cid) != csec:
            self._send(401, {'error': 'invalid_client', 'error_description': 'Client authentication failed'})
            return
        ttl = int(emu.config['token_ttl_s'])
        tok = 'dose' + secrets.token_hex(24)
        with emu.lock:
            emu.issued[tok] = time.time() + ttl
        self._send(200, {'access_token': tok, 'token_type': 'Bearer', 'expires_in': ttl,
                         'scope': (form.get('scope') or ['all-apis'])[0]})

    def _create(self, raw, fault):
        emu = self.emu
        try:
            body = json.loads(raw.decode('utf-8')) if raw else None
            if not isinstance(body, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            self._error(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request - failed to '
                                                  'parse given JSON')
            return
        text = body.get('statement')
        self.log_extra['statement'] = text
        self.log_extra['query_tags'] = body.get('query_tags')
        wh = body.get('warehouse_id')
        if wh is None:
            self._error(400, 'BAD_REQUEST', "Missing required field: warehouse_id")
            return
        if not isinstance(wh, str) or not WAREHOUSE_RE.match(wh):
            self._error(400, 'INVALID_PARAMETER_VALUE', '%s is not a valid endpoint id.' % wh)
            return
        if emu.warehouses and wh not in emu.warehouses:
            self._error(403, 'PERMISSION_DENIED', 'You do not have permission to use the SQL Warehouse. Please '
                                                  'contact your administrator.')
            return
        if not isinstance(text, str):
            self._error(400, 'BAD_REQUEST', 'Missing required field: statement')
            return
        wt = body.get('wait_timeout', '10s')
        m = re.match(r'^(\d+)s$', wt) if isinstance(wt, str) else None
        if m is None:
            self._error(400, 'INVALID_PARAMETER_VALUE', 'Error while parsing type: duration.')
            return
        wait = int(m.group(1))
        if wait != 0 and not 5 <= wait <= 50:
            self._error(400, 'INVALID_PARAMETER_VALUE', WAIT_MSG, violations=[('wait_timeout', WAIT_MSG)])
            return
        disp = body.get('disposition', 'INLINE')
        fmt = body.get('format', 'JSON_ARRAY')
        if disp == 'INLINE' and fmt in ('ARROW_STREAM', 'CSV'):
            self._error(400, 'INVALID_PARAMETER_VALUE', 'Incompatible parameters: The format field must be '
                                                        'JSON_ARRAY when the disposition field is INLINE.')
            return
        st = emu.create(body, text)
        self.log_extra['statement_id'] = st.id
        self.log_extra['request_id'] = st.request_id
        if not COMMENTS_RE.sub(' ', text).strip().rstrip(';').strip():
            with emu.lock:
                st.state = 'FAILED'
                st.error_class, st.sql_state = 'PARSE_EMPTY_STATEMENT', '42617'
                st.message = ('\n[PARSE_EMPTY_STATEMENT] Syntax error, unexpected empty statement. SQLSTATE: '
                              '42617 (line 1, pos 0)\n\n== SQL ==\n\n^^^\n')
                st.ended_ms = now_ms()
                st.done.set()
        with emu.lock:
            first = emu.statement_json(st)
        emu.start(st)
        if fault is not None and fault.get('action') == 'drop_after_create':
            self.log_extra['fault'] = 'drop_after_create'
            self._drop()
            return
        if wait == 0:
            self._send(200, first)
            return
        st.done.wait(wait)
        if st.state not in TERMINAL and body.get('on_wait_timeout') == 'CANCEL':
            emu.cancel(st)
        with emu.lock:
            ans = emu.statement_json(st)
        self._send(200, ans)

    def _chunk(self, st, index_text):
        emu = self.emu
        try:
            index = int(index_text)
        except ValueError:
            self._error(400, 'INVALID_PARAMETER_VALUE', 'Error while parsing type: chunk_index.')
            return
        with emu.lock:
            if st.state != 'SUCCEEDED':
                self._error(404, 'NOT_FOUND', 'The statement %s has no result.' % st.id)
                return
            chunks = emu.chunks_of(st)
            if not 0 <= index < len(chunks):
                self._error(400, 'INVALID_PARAMETER_VALUE', 'The chunk_index %d is out of bounds.' % index)
                return
            ans = emu.result_data(st, index, chunks)
        self._send(200, ans)

    def _history(self, query, raw):
        emu = self.emu
        qs = urllib.parse.parse_qs(query)
        flt = {}
        if raw:
            try:
                b = json.loads(raw)
                if isinstance(b, dict):
                    flt = b.get('filter_by') or {}
                    for k in ('max_results', 'page_token'):
                        if k in b:
                            qs[k] = [str(b[k])]
            except ValueError:
                pass

        def param(name):
            if ('filter_by.' + name) in qs:
                return qs['filter_by.' + name]
            v = flt.get(name)
            return v if isinstance(v, list) else ([v] if v is not None else [])

        warehouses = set(param('warehouse_ids'))
        statuses = set(param('statuses'))
        ids = set(param('statement_ids'))
        tr = flt.get('query_start_time_range') or {}
        start = (qs.get('filter_by.query_start_time_range.start_time_ms') or [tr.get('start_time_ms')])[0]
        end = (qs.get('filter_by.query_start_time_range.end_time_ms') or [tr.get('end_time_ms')])[0]
        try:
            start = int(start) if start is not None else None
            end = int(end) if end is not None else None
            max_results = int((qs.get('max_results') or ['100'])[0])
            offset = int(base64.b64decode((qs.get('page_token') or [''])[0] or b'MA==').decode())
        except (ValueError, TypeError):
            self._error(400, 'INVALID_PARAMETER_VALUE', 'Invalid filter or page token.')
            return
        if start is not None and end is not None and end - start > 30 * 86400 * 1000:
            self._error(400, 'INVALID_PARAMETER_VALUE', 'The time range must be less than or equal to 30 days.')
            return
        max_results = max(1, min(max_results, 1000))
        cutoff = now_ms() - int(emu.config['history_lag_ms'])
        out = []
        with emu.lock:
            for st in reversed(emu.history):
                if st.created_ms > cutoff:
                    continue
                if warehouses and st.warehouse_id not in warehouses:
                    continue
                if ids and st.id not in ids:
                    continue
                if statuses and HISTORY_STATUS[st.state] not in statuses:
                    continue
                if start is not None and st.created_ms < start:
                    continue
                if end is not None and st.created_ms > end:
                    continue
                out.append(st)
            page = [emu.history_item(st) for st in out[offset:offset + max_results]]
        ans = {}
        more = offset + max_results < len(out)
        if more:
            ans['next_page_token'] = base64.b64encode(str(offset + max_results).encode()).decode()
        ans['has_next_page'] = more
        ans['res'] = page
        self._send(200, ans)

    # -------------------------------------------------- control
    def _control(self, method, path, query, raw):
        emu = self.emu
        self.status = -1                    # not logged
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._send(400, {'error': 'body is not JSON'})
            return
        qs = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        what = path[len('/_emulator/'):]
        if what == 'ping':
            self._send(200, {'ok': True})
        elif what == 'reset':
            emu.reset(data=bool(body.get('data')))
            self._send(200, {'ok': True})
        elif what == 'config':
            if method == 'POST':
                with emu.lock:
                    for k, v in body.items():
                        if k == 'tokens':
                            emu.pat_tokens = set(v)
                        elif k == 'oauth_clients':
                            emu.oauth_clients = dict(v)
                        elif k == 'warehouses':
                            emu.warehouses = set(v)
                        elif k in emu.config:
                            emu.config[k] = v
                        else:
                            self._send(400, {'error': 'unknown setting %s' % k})
                            return
            with emu.lock:
                ans = dict(emu.config, tokens=sorted(emu.pat_tokens), oauth_clients=sorted(emu.oauth_clients),
                           warehouses=sorted(emu.warehouses))
            self._send(200, ans)
        elif what == 'rules':
            if method == 'POST':
                if not (body.get('match') or body.get('request_id')):
                    self._send(400, {'error': 'a rule needs match or request_id'})
                    return
                if body.get('action', 'fail') not in ('fail', 'hang', 'latency'):
                    self._send(400, {'error': 'action is fail, hang or latency'})
                    return
                with emu.lock:
                    emu.rules.append(dict(body))
            elif method == 'DELETE':
                with emu.lock:
                    emu.rules = []
            with emu.lock:
                self._send(200, {'rules': emu.rules})
        elif what == 'faults':
            if method == 'POST':
                if body.get('action', 'respond') not in ('respond', 'drop', 'drop_after_create'):
                    self._send(400, {'error': 'action is respond, drop or drop_after_create'})
                    return
                f = dict(body)
                f.setdefault('route', '*')
                f['count'] = int(f.get('count', 1))
                with emu.lock:
                    emu.faults.append(f)
            elif method == 'DELETE':
                with emu.lock:
                    emu.faults = []
            with emu.lock:
                self._send(200, {'faults': emu.faults})
        elif what == 'log':
            since = int(qs.get('since', 0))
            with emu.lock:
                self._send(200, {'entries': emu.log[since:], 'next': len(emu.log)})
        elif what == 'executions':
            with emu.lock:
                if 'request_id' in qs:
                    self._send(200, {'request_id': qs['request_id'], 'count': emu.executions[qs['request_id']]})
                else:
                    self._send(200, {'executions': dict(emu.executions)})
        elif what == 'statements':
            with emu.lock:
                items = [{'statement_id': st.id, 'state': st.state, 'request_id': st.request_id,
                          'statement': st.text, 'executed': st.executed, 'created_ms': st.created_ms,
                          'ended_ms': st.ended_ms, 'error_class': st.error_class}
                         for st in emu.history
                         if not qs.get('request_id') or st.request_id == qs['request_id']]
            self._send(200, {'statements': items})
        elif what == 'table':
            name = qs.get('name') or body.get('name')
            try:
                cols, rows = emu.engine.table_rows(name)
            except duckdb.Error as e:
                self._send(404, {'error': str(e).split('\n')[0]})
                return
            self._send(200, {'columns': [c['name'] for c in cols], 'types': [c['type_text'] for c in cols],
                             'rows': rows})
        elif what == 'sql':
            try:
                if body.get('dialect', 'databricks') == 'duckdb':
                    cols, rows = emu.engine.raw(body['statement'])
                else:
                    c, r = emu.engine.run(body['statement'], body.get('catalog', 'workspace'),
                                          body.get('schema', 'default'))
                    cols, rows = [n for n, _ in c], [[encode_value(v) for v in x] for x in r]
            except EngineError as e:
                self._send(400, {'error': e.text(), 'error_class': e.error_class})
                return
            except duckdb.Error as e:
                self._send(400, {'error': str(e).split('\n')[0]})
                return
            self._send(200, {'columns': cols, 'rows': rows})
        elif what == 'load_csv':
            try:
                n = emu.engine.load_csv(body['table'], body['path'], body.get('types') or {})
            except (duckdb.Error, KeyError, ValueError) as e:
                self._send(400, {'error': str(e).split('\n')[0]})
                return
            self._send(200, {'rows': n})
        elif what == 'expire_tokens':
            with emu.lock:
                for t in emu.issued:
                    emu.issued[t] = 0
            self._send(200, {'ok': True})
        else:
            self._send(404, {'error': 'no control route %s' % what})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    ssl_context = None

    def finish_request(self, request, client_address):
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(30)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


def make_cert(cert_dir):
    os.makedirs(cert_dir, exist_ok=True)
    cert = os.path.join(cert_dir, 'cert.pem')
    key = os.path.join(cert_dir, 'key.pem')
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                        '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=127.0.0.1',
                        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
                        '-addext', 'basicConstraints=critical,CA:TRUE',
                        '-addext', 'keyUsage=critical,digitalSignature,keyCertSign'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--port', type=int, default=0, help='HTTPS port (0: a free one)')
    ap.add_argument('--control-port', type=int, default=0, help='plain HTTP port for /_emulator/ (0: a free one)')
    ap.add_argument('--cert-dir', help='directory of cert.pem/key.pem (made when absent)')
    ap.add_argument('--cert', help='certificate file (with --key)')
    ap.add_argument('--key', help='private key file')
    ap.add_argument('--ready-file', help='write {"port":..,"control_port":..,"cert":..} here when ready')
    ap.add_argument('--token', action='append', help='an accepted personal access token (repeatable)')
    ap.add_argument('--oauth-client', action='append', help='ID:SECRET of an OAuth M2M client (repeatable)')
    ap.add_argument('--warehouse', action='append', help='a usable warehouse id (default: any well-formed one)')
    ap.add_argument('--latency-ms', type=int, default=0, help='simulated run time of each statement')
    ap.add_argument('--token-ttl', type=int, default=3600, help='OAuth access token lifetime, seconds')
    ap.add_argument('--history-lag-ms', type=int, default=0, help='delay before a statement shows in history')
    ap.add_argument('--db', default=':memory:', help='DuckDB database file')
    ap.add_argument('--exit-with-parent', action='store_true',
                    help='exit when the process that started it ends (no orphan after a killed test)')
    args = ap.parse_args()

    if args.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch, name='parent-watch', daemon=True).start()

    if args.cert and args.key:
        cert, key = args.cert, args.key
    elif args.cert_dir:
        cert, key = make_cert(args.cert_dir)
    else:
        ap.error('give --cert-dir or --cert and --key')
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(['http/1.1'])

    Handler.emu = Emulator(args)
    tls = Server(('127.0.0.1', args.port), Handler)
    tls.ssl_context = ctx
    ControlHandler = type('ControlHandler', (Handler,), {'control_only': True})
    plain = Server(('127.0.0.1', args.control_port), ControlHandler)
    info = {'port': tls.server_address[1], 'control_port': plain.server_address[1], 'cert': os.path.abspath(cert),
            'pid': os.getpid()}
    threading.Thread(target=plain.serve_forever, name='control', daemon=True).start()
    if args.ready_file:
        tmp = args.ready_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(info, f)
        os.rename(tmp, args.ready_file)
    print('READY port=%d control_port=%d' % (info['port'], info['control_port']), flush=True)
    try:
        tls.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
