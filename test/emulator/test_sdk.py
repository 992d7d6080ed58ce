"""The emulator's protocol fidelity (protocols.md section 1), with the official databricks-sdk as the client.

Owns: the SDK's view of the emulator (statements, chunks, cancel, errors parsed
into the SDK's exception classes, 429 retried after Retry-After, OAuth M2M,
query history) and raw-HTTP checks of the recorded quirks the SDK hides
(trailing slash, empty-body cancel, exact error bodies, fault bodies, dropped
connections, keep-alive). Run: .venv/bin/python -m unittest -v test_sdk
"""

import http.client
import os
import time
import unittest
import uuid

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service.sql import (ExecuteStatementRequestOnWaitTimeout, QueryFilter, QueryStatus, QueryTag,
                                        StatementState, TimeRange)

import emuctl
from emuctl import TOKEN, WAREHOUSE, OTHER_WAREHOUSE

EMU = None
WAIT_MSG = "The wait_timeout field must be 0 seconds (disables wait), or between 5 seconds and 50 seconds."


def setUpModule():
    global EMU
    EMU = emuctl.Emulator()
    os.environ['REQUESTS_CA_BUNDLE'] = EMU.cert
    for k in list(os.environ):
        if k.startswith('DATABRICKS_'):
            del os.environ[k]


def tearDownModule():
    EMU.stop()


def pat_client():
    return WorkspaceClient(host=EMU.host, token=TOKEN, auth_type='pat')


class Base(unittest.TestCase):
    def setUp(self):
        EMU.reset()

    def log(self, route=None):
        entries = EMU.control('GET', 'log')['entries']
        return [e for e in entries if route is None or e['route'] == route]


class SdkStatements(Base):
    def test_execute_0s_then_get(self):
        w = pat_client()
        r = w.statement_execution.execute_statement('SELECT 41 + 1 AS answer', WAREHOUSE, wait_timeout='0s')
        self.assertEqual(r.status.state, StatementState.PENDING)
        uuid.UUID(r.statement_id)
        deadline = time.time() + 10
        while True:
            g = w.statement_execution.get_statement(r.statement_id)
            if g.status.state not in (StatementState.PENDING, StatementState.RUNNING) or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(g.status.state, StatementState.SUCCEEDED)
        self.assertEqual(g.manifest.schema.columns[0].name, 'answer')
        self.assertEqual(g.manifest.schema.columns[0].type_name.value, 'INT')
        self.assertEqual(g.result.data_array, [['42']])

    def test_execute_10s_wait_inline(self):
        w = pat_client()
        r = w.statement_execution.execute_statement(
            "SELECT 1 AS i, 'x' AS s, CAST(1.5 AS DECIMAL(4,2)) AS d, true AS b, NULL AS n, "
            "DATE'2024-01-02' AS dt, TIMESTAMP'2024-01-02 03:04:05.1239' AS ts, CAST(16777216 AS DOUBLE) AS f",
            WAREHOUSE, wait_timeout='10s')
        self.assertEqual(r.status.state, StatementState.SUCCEEDED)
        self.assertEqual(r.result.data_array,
                         [['1', 'x', '1.50', 'true', None, '2024-01-02', '2024-01-02T03:04:05.123Z', '1.6777216E7']])
        types = [c.type_name.value for c in r.manifest.schema.columns]
        self.assertEqual(types, ['INT', 'STRING', 'DECIMAL', 'BOOLEAN', 'NULL', 'DATE', 'TIMESTAMP', 'DOUBLE'])
        self.assertFalse(r.manifest.truncated)

    def test_wait_timeout_cancel(self):
        EMU.control('POST', 'rules', {'match': 'hang here', 'action': 'hang'})
        w = pat_client()
        t0 = time.time()
        r = w.statement_execution.execute_statement("SELECT 'hang here'", WAREHOUSE, wait_timeout='5s',
                                                    on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CANCEL)
        self.assertEqual(r.status.state, StatementState.CANCELED)
        self.assertGreaterEqual(time.time() - t0, 4.9)

    def test_wait_timeout_continue(self):
        EMU.control('POST', 'config', {'latency_ms': 7000})
        w = pat_client()
        r = w.statement_execution.execute_statement('SELECT 1', WAREHOUSE, wait_timeout='5s')
        self.assertEqual(r.status.state, StatementState.RUNNING)
        w.statement_execution.cancel_execution(r.statement_id)

    def test_chunks(self):
        EMU.control('POST', 'config', {'chunk_rows': 2})
        w = pat_client()
        r = w.statement_execution.execute_statement('SELECT id FROM range(5) AS t(id) ORDER BY id', WAREHOUSE,
                                                    wait_timeout='10s')
        self.assertEqual(r.manifest.total_chunk_count, 3)
        self.assertEqual(r.manifest.total_row_count, 5)
        self.assertEqual([c.row_offset for c in r.manifest.chunks], [0, 2, 4])
        self.assertEqual(r.result.next_chunk_index, 1)
        self.assertTrue(r.result.next_chunk_internal_link.startswith(
            '/api/2.0/sql/statements/%s/result/chunks/1' % r.statement_id))
        c1 = w.statement_execution.get_statement_result_chunk_n(r.statement_id, 1)
        self.assertEqual((c1.chunk_index, c1.row_offset, c1.data_array), (1, 2, [['2'], ['3']]))
        c2 = w.statement_execution.get_statement_result_chunk_n(r.statement_id, 2)
        self.assertEqual(c2.data_array, [['4']])
        self.assertIsNone(c2.next_chunk_index)
        with self.assertRaises(BadRequest) as cm:
            w.statement_execution.get_statement_result_chunk_n(r.statement_id, 3)
        self.assertIn('The chunk_index 3 is out of bounds.', str(cm.exception))

    def test_row_limit_truncates(self):
        w = pat_client()
        r = w.statement_execution.execute_statement('SELECT id FROM range(5) AS t(id)', WAREHOUSE,
                                                    wait_timeout='10s', row_limit=3)
        self.assertTrue(r.manifest.truncated)
        self.assertEqual(r.manifest.total_row_count, 3)

    def test_cancel_execution(self):
        EMU.control('POST', 'rules', {'match': 'forever', 'action': 'hang'})
        w = pat_client()
        r = w.statement_execution.execute_statement("SELECT 'forever'", WAREHOUSE, wait_timeout='0s')
        self.assertEqual(w.statement_execution.get_statement(r.statement_id).status.state, StatementState.RUNNING)
        w.statement_execution.cancel_execution(r.statement_id)
        self.assertEqual(w.statement_execution.get_statement(r.statement_id).status.state, StatementState.CANCELED)
        self.assertEqual(EMU.control('GET', 'statements')['statements'][0]['executed'], False)

    def test_engine_error_is_200_failed(self):
        w = pat_client()
        r = w.statement_execution.execute_statement('SELECT * FROM main.nowhere.nothing', WAREHOUSE,
                                                    wait_timeout='10s')
        self.assertEqual(r.status.state, StatementState.FAILED)
        self.assertEqual(r.status.error.error_code.value, 'BAD_REQUEST')
        self.assertTrue(r.status.error.message.startswith('[TABLE_OR_VIEW_NOT_FOUND]'), r.status.error.message)
        self.assertEqual(r.status.sql_state, '42P01')

    def test_injected_failure_by_request_id(self):
        rid = str(uuid.uuid4())
        EMU.control('POST', 'rules', {'request_id': rid, 'action': 'fail', 'error_class': 'DIVIDE_BY_ZERO',
                                      'sql_state': '22012', 'message': 'Division by zero.'})
        w = pat_client()
        r = w.statement_execution.execute_statement(
            '/* ironlayer_request_id=%s */\nSELECT 1' % rid, WAREHOUSE, wait_timeout='10s',
            query_tags=[QueryTag(key='ironlayer_request_id', value=rid)])
        self.assertEqual(r.status.state, StatementState.FAILED)
        self.assertEqual(r.status.error.message, '[DIVIDE_BY_ZERO] Division by zero. SQLSTATE: 22012')
        self.assertEqual(r.status.sql_state, '22012')
        self.assertEqual(EMU.control('GET', 'executions?request_id=' + rid)['count'], 0)

    def test_latency_is_simulated(self):
        EMU.control('POST', 'config', {'latency_ms': 1500})
        w = pat_client()
        t0 = time.time()
        r = w.statement_execution.execute_statement('SELECT 1', WAREHOUSE, wait_timeout='0s')
        self.assertEqual(w.statement_execution.get_statement(r.statement_id).status.state, StatementState.RUNNING)
        r = w.statement_execution.execute_statement('SELECT 2', WAREHOUSE, wait_timeout='10s')
        self.assertEqual(r.status.state, StatementState.SUCCEEDED)
        self.assertGreaterEqual(time.time() - t0, 1.49)


class SdkErrors(Base):
    def test_unknown_statement_is_not_found(self):
        with self.assertRaises(NotFound):
            pat_client().statement_execution.get_statement(str(uuid.uuid4()))

    def test_forbidden_warehouse_is_permission_denied(self):
        with self.assertRaises(PermissionDenied) as cm:
            pat_client().statement_execution.execute_statement('SELECT 1', OTHER_WAREHOUSE, wait_timeout='0s')
        self.assertIn('You do not have permission to use the SQL Warehouse', str(cm.exception))

    def test_bad_token_is_permission_denied(self):
        w = WorkspaceClient(host=EMU.host, token='dapi-wrong', auth_type='pat')
        with self.assertRaises(PermissionDenied) as cm:
            w.statement_execution.get_statement(str(uuid.uuid4()))
        self.assertIn('Invalid access token', str(cm.exception))

    def test_wait_timeout_51s_is_bad_request(self):
        with self.assertRaises(InvalidParameterValue) as cm:
            pat_client().statement_execution.execute_statement('SELECT 1', WAREHOUSE, wait_timeout='51s')
        self.assertIsInstance(cm.exception, BadRequest)
        self.assertEqual(str(cm.exception), WAIT_MSG)

    def test_429_retried_after_retry_after(self):
        EMU.control('POST', 'faults', {'route': 'statements.get', 'status': 429, 'retry_after': 2, 'count': 1})
        w = pat_client()
        r = w.statement_execution.execute_statement('SELECT 1', WAREHOUSE, wait_timeout='0s')
        t0 = time.time()
        w.statement_execution.get_statement(r.statement_id)
        self.assertGreaterEqual(time.time() - t0, 1.9)
        self.assertEqual([e['status'] for e in self.log('statements.get')], [429, 200])

    def test_503_retried(self):
        EMU.control('POST', 'faults', {'route': 'statements.create', 'status': 503, 'retry_after': 1, 'count': 2})
        r = pat_client().statement_execution.execute_statement('SELECT 1', WAREHOUSE, wait_timeout='10s')
        self.assertEqual(r.status.state, StatementState.SUCCEEDED)
        self.assertEqual([e['status'] for e in self.log('statements.create')], [503, 503, 200])


class SdkOAuthAndHistory(Base):
    def oauth_client(self):
        return WorkspaceClient(host=EMU.host, client_id=emuctl.CLIENT_ID, client_secret=emuctl.CLIENT_SECRET,
                               auth_type='oauth-m2m')

    def test_oauth_m2m_end_to_end(self):
        r = self.oauth_client().statement_execution.execute_statement('SELECT 7', WAREHOUSE, wait_timeout='10s')
        self.assertEqual(r.result.data_array, [['7']])
        tok = self.log('token')
        self.assertEqual([e['status'] for e in tok], [200])
        self.assertEqual(tok[0]['client_id'], emuctl.CLIENT_ID)

    def test_oauth_wrong_secret(self):
        w = WorkspaceClient(host=EMU.host, client_id=emuctl.CLIENT_ID, client_secret='wrong', auth_type='oauth-m2m')
        with self.assertRaises(Exception):
            w.statement_execution.execute_statement('SELECT 7', WAREHOUSE, wait_timeout='10s')
        self.assertEqual([e['status'] for e in self.log('token')][:1], [401])

    def test_expired_token_is_403(self):
        EMU.control('POST', 'config', {'token_ttl_s': 3})
        import base64
        import urllib.parse
        basic = base64.b64encode(('%s:%s' % (emuctl.CLIENT_ID, emuctl.CLIENT_SECRET)).encode()).decode()
        st, _, ans = EMU.call('POST', '/oidc/v1/token', token=None,
                              raw=urllib.parse.urlencode({'grant_type': 'client_credentials', 'scope': 'all-apis'}),
                              headers={'Authorization': 'Basic ' + basic,
                                       'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertEqual((st, ans['token_type'], ans['expires_in']), (200, 'Bearer', 3))
        sid = str(uuid.uuid4())
        self.assertEqual(EMU.call('GET', '/api/2.0/sql/statements/' + sid, token=ans['access_token'])[0], 404)
        time.sleep(3.1)
        st, h, body = EMU.call('GET', '/api/2.0/sql/statements/' + sid, token=ans['access_token'])
        self.assertEqual((st, body['error_code']), (403, 403))
        self.assertEqual(h['X-Databricks-Reason-Phrase'], 'Invalid access token.')

    def test_query_history(self):
        EMU.control('POST', 'config', {'history_lag_ms': 3000})
        w = pat_client()
        rid = str(uuid.uuid4())
        start = int(time.time() * 1000) - 1000
        r = w.statement_execution.execute_statement(
            '/* ironlayer_request_id=%s */\nSELECT 1' % rid, WAREHOUSE, wait_timeout='10s',
            query_tags=[QueryTag(key='ironlayer_request_id', value=rid)])
        flt = QueryFilter(warehouse_ids=[WAREHOUSE],
                          query_start_time_range=TimeRange(start_time_ms=start, end_time_ms=start + 60000))
        self.assertEqual(w.query_history.list(filter_by=flt).res or [], [])       # the lag
        time.sleep(3.1)
        res = w.query_history.list(filter_by=flt, max_results=10).res
        self.assertEqual(len(res), 1)
        q = res[0]
        self.assertEqual((q.query_id, q.warehouse_id, q.status), (r.statement_id, WAREHOUSE, QueryStatus.FINISHED))
        self.assertEqual([(t.key, t.value) for t in q.query_tags], [('ironlayer_request_id', rid)])
        self.assertTrue(q.query_text.startswith('/* ironlayer_request_id=%s */' % rid))
        flt.statuses = [QueryStatus.FAILED]
        self.assertEqual(w.query_history.list(filter_by=flt).res or [], [])
        flt.statuses = None
        flt.warehouse_ids = [OTHER_WAREHOUSE]
        self.assertEqual(w.query_history.list(filter_by=flt).res or [], [])

    def test_query_history_pages(self):
        w = pat_client()
        for i in range(5):
            w.statement_execution.execute_statement('SELECT %d' % i, WAREHOUSE, wait_timeout='0s')
        first = w.query_history.list(max_results=2)
        self.assertTrue(first.has_next_page)
        seen = [q.query_text for q in first.res]
        page = first
        while page.has_next_page:
            page = w.query_history.list(max_results=2, page_token=page.next_page_token)
            seen += [q.query_text for q in page.res]
        self.assertEqual(seen, ['SELECT %d' % i for i in range(4, -1, -1)])


class RawProtocol(Base):
    def post(self, body, path='/api/2.0/sql/statements', **kw):
        return EMU.call('POST', path, body, **kw)

    def test_trailing_slash_and_query_string(self):
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '10s'},
                               path='/api/2.0/sql/statements/?x=1')
        self.assertEqual((st, ans['status']['state']), (200, 'SUCCEEDED'))
        st, _, ans = EMU.call('GET', '/api/2.0/sql/statements/%s/' % ans['statement_id'])
        self.assertEqual((st, ans['result']['data_array']), (200, [['1']]))

    def test_recorded_success_body_shape(self):
        st, h, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '50s'})
        self.assertEqual(list(ans), ['statement_id', 'status', 'manifest', 'result'])
        self.assertEqual(ans['manifest'], {'format': 'JSON_ARRAY', 'schema': {'column_count': 1, 'columns': [
            {'name': '1', 'type_text': 'INT', 'type_name': 'INT', 'position': 0}]}, 'total_chunk_count': 1,
            'chunks': [{'chunk_index': 0, 'row_offset': 0, 'row_count': 1}], 'total_row_count': 1,
            'truncated': False})
        self.assertEqual(ans['result'], {'chunk_index': 0, 'row_offset': 0, 'row_count': 1, 'data_array': [['1']]})
        self.assertEqual(h['Server'], 'databricks')
        uuid.UUID(h['X-Request-Id'])

    def test_0s_is_pending_at_once(self):
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '0s'})
        self.assertEqual(list(ans), ['statement_id', 'status'])
        self.assertEqual(ans['status'], {'state': 'PENDING'})

    def test_empty_body_cancel(self):
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '0s'})
        st, _, c = EMU.call('POST', '/api/2.0/sql/statements/%s/cancel' % ans['statement_id'], raw=None)
        self.assertEqual((st, c), (200, {}))
        st, _, c = EMU.call('POST', '/api/2.0/sql/statements/%s/cancel' % str(uuid.uuid4()), body={})
        self.assertEqual((st, c), (200, {}))

    def test_delete_answers_empty_object_and_keeps_statement(self):
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '10s'})
        self.assertEqual(EMU.call('DELETE', '/api/2.0/sql/statements/' + ans['statement_id'])[:3:2], (200, {}))
        self.assertEqual(EMU.call('GET', '/api/2.0/sql/statements/' + ans['statement_id'])[0], 200)

    def test_wait_timeout_51s_body(self):
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '51s'})
        self.assertEqual((st, ans['error_code'], ans['message']), (400, 'INVALID_PARAMETER_VALUE', WAIT_MSG))
        self.assertEqual(ans['details'][0]['field_violations'], [{'field': 'wait_timeout', 'description': WAIT_MSG}])
        self.assertEqual(ans['details'][1]['@type'], 'type.googleapis.com/google.rpc.RequestInfo')
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': 'soon'})
        self.assertEqual((st, ans['message']), (400, 'Error while parsing type: duration.'))
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '4s'})
        self.assertEqual(st, 400)

    def test_request_errors(self):
        st, _, ans = EMU.call('POST', '/api/2.0/sql/statements', raw='{not json')
        self.assertEqual((st, ans['error_code']), (400, 'MALFORMED_REQUEST'))
        st, _, ans = self.post({'warehouse_id': 'nosuch', 'statement': 'SELECT 1'})
        self.assertEqual((st, ans['message']), (400, 'nosuch is not a valid endpoint id.'))
        st, _, ans = self.post({'statement': 'SELECT 1'})
        self.assertEqual((st, ans['error_code']), (400, 'BAD_REQUEST'))
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'format': 'CSV'})
        self.assertEqual((st, ans['message']), (400, 'Incompatible parameters: The format field must be JSON_ARRAY '
                                                     'when the disposition field is INLINE.'))
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': '', 'wait_timeout': '10s'})
        self.assertEqual((st, ans['status']['state'], ans['status']['sql_state']), (200, 'FAILED', '42617'))
        self.assertTrue(ans['status']['error']['message'].startswith('\n[PARSE_EMPTY_STATEMENT]'))
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1; SELECT 2', 'wait_timeout': '10s'})
        self.assertTrue(ans['status']['error']['message'].startswith('[PARSE_SYNTAX_ERROR]'))

    def test_statement_ids(self):
        st, _, ans = EMU.call('GET', '/api/2.0/sql/statements/not-a-uuid')
        self.assertEqual((st, ans['error_code'], ans['message']),
                         (400, 'INVALID_PARAMETER_VALUE', 'Error while parsing type: statement_id.'))
        st, _, ans = EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()))
        self.assertEqual((st, ans['error_code']), (404, 'NOT_FOUND'))
        st, _, ans = EMU.call('GET', '/api/2.0/sql/statements/%s/result/chunks/0' % str(uuid.uuid4()))
        self.assertEqual((st, ans['error_code']), (404, 'NOT_FOUND'))

    def test_statement_expiry(self):
        EMU.control('POST', 'config', {'statement_expiry_s': 0.2})
        st, _, ans = self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '10s'})
        time.sleep(0.3)
        self.assertEqual(EMU.call('GET', '/api/2.0/sql/statements/' + ans['statement_id'])[0], 404)

    def test_routes_not_found(self):
        st, _, ans = EMU.call('PUT', '/api/2.0/sql/statements', body={})
        self.assertEqual((st, ans['error_code'], ans['message']),
                         (404, 'ENDPOINT_NOT_FOUND', "No API found for 'PUT /sql/statements'"))
        st, _, ans = EMU.call('GET', '/api/2.0/sql/statements')
        self.assertEqual((st, ans['error_code']), (404, 'ENDPOINT_NOT_FOUND'))
        st, _, ans = EMU.call('GET', '/api/2.0/sql/nothing')
        self.assertEqual((st, ans), (404, None))

    def test_auth(self):
        st, h, ans = EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()), token=None)
        self.assertEqual((st, ans['error_code']), (401, 401))
        self.assertEqual(h['WWW-Authenticate'], 'Bearer realm="DatabricksRealm"')
        st, h, ans = EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()), token='dapi-bad')
        self.assertEqual((st, ans['error_code']), (403, 403))
        self.assertTrue(ans['message'].startswith('Invalid access token. [ReqId: '))

    def test_fault_bodies(self):
        for body, ctype in (('html', 'text/html'), ('plain', 'text/plain'), ('json', 'application/json')):
            EMU.control('POST', 'faults', {'route': 'statements.get', 'status': 503, 'body': body, 'retry_after': 3})
            st, h, ans = EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()))
            self.assertEqual((st, h['Retry-After']), (503, '3'))
            self.assertTrue(h['Content-Type'].startswith(ctype), h['Content-Type'])
            if body == 'html':
                self.assertIn('<pre>No webapps are available to handle your request. Please try again later.</pre>',
                              ans)
            elif body == 'plain':
                self.assertTrue(ans.startswith('TEMPORARILY_UNAVAILABLE: '))
            else:
                self.assertEqual(ans['error_code'], 'TEMPORARILY_UNAVAILABLE')
        EMU.control('POST', 'faults', {'route': '*', 'status': 500, 'body': 'empty'})
        st, _, ans = EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()))
        self.assertEqual((st, ans), (500, None))
        self.assertEqual(EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()))[0], 404)  # count 1

    def test_drop_after_create(self):
        EMU.control('POST', 'faults', {'route': 'statements.create', 'action': 'drop_after_create'})
        rid = str(uuid.uuid4())
        with self.assertRaises((http.client.HTTPException, OSError)):
            self.post({'warehouse_id': WAREHOUSE, 'statement': '/* ironlayer_request_id=%s */ SELECT 1' % rid,
                       'wait_timeout': '0s'})
        deadline = time.time() + 5
        while time.time() < deadline:
            sts = EMU.control('GET', 'statements?request_id=' + rid)['statements']
            if sts and sts[0]['state'] == 'SUCCEEDED':
                break
            time.sleep(0.05)
        self.assertEqual(sts[0]['state'], 'SUCCEEDED')
        self.assertEqual(EMU.control('GET', 'executions?request_id=' + rid)['count'], 1)
        self.assertEqual(self.log('statements.create')[0]['fault'], 'drop_after_create')

    def test_keep_alive(self):
        c = EMU.connection(fresh=True)
        self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 1', 'wait_timeout': '0s'})
        sock = c.sock
        for _ in range(5):
            EMU.call('GET', '/api/2.0/sql/statements/' + str(uuid.uuid4()))
        self.assertIs(EMU.connection().sock, sock)

    def test_request_log(self):
        rid = str(uuid.uuid4())
        tags = [{'key': 'ironlayer_request_id', 'value': rid}]
        self.post({'warehouse_id': WAREHOUSE, 'statement': 'SELECT 3', 'wait_timeout': '0s', 'query_tags': tags})
        e = self.log('statements.create')[0]
        self.assertEqual((e['method'], e['path'], e['status'], e['statement'], e['query_tags'], e['request_id']),
                         ('POST', '/api/2.0/sql/statements', 200, 'SELECT 3', tags, rid))


if __name__ == '__main__':
    unittest.main()
