"""Start, stop and drive the emulator from the Python tests (test_sdk.py, test_engine.py).

Owns: one emulator process per test module (a free port, a fresh certificate
directory), raw HTTPS calls that keep one connection open, and the control API
over the plain control port.
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = 'dapi-emulator-test-token'
CLIENT_ID = 'sp-client-id'
CLIENT_SECRET = 'sp-client-secret'
WAREHOUSE = '0123456789abcdef'
OTHER_WAREHOUSE = 'fedcba9876543210'


class Emulator:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix='emu-test.')
        ready = os.path.join(self.dir, 'ready.json')
        self.log = open(os.path.join(self.dir, 'emulator.log'), 'w')
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, 'emulator.py'), '--cert-dir', os.path.join(self.dir, 'tls'),
             '--ready-file', ready, '--exit-with-parent', '--token', TOKEN, '--oauth-client', '%s:%s' % (CLIENT_ID, CLIENT_SECRET),
             '--warehouse', WAREHOUSE] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('the emulator did not start: see %s' % self.log.name)
            time.sleep(0.05)
        with open(ready) as f:
            info = json.load(f)
        self.port = info['port']
        self.control_port = info['control_port']
        self.cert = info['cert']
        self.host = 'https://127.0.0.1:%d' % self.port
        self.ctx = ssl.create_default_context(cafile=self.cert)
        self._conn = None

    def stop(self):
        self.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -------------------------------------------------- control
    def control(self, method, what, body=None):
        c = http.client.HTTPConnection('127.0.0.1', self.control_port, timeout=30)
        c.request(method, '/_emulator/' + what, body=json.dumps(body) if body is not None else None,
                  headers={'Content-Type': 'application/json'})
        r = c.getresponse()
        data = json.loads(r.read() or b'null')
        c.close()
        if r.status != 200:
            raise RuntimeError('control %s %s: %d %s' % (method, what, r.status, data))
        return data

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def reset(self, data=False):
        self.close()
        return self.control('POST', 'reset', {'data': data})

    def sql(self, statement, catalog='main'):
        return self.control('POST', 'sql', {'statement': statement, 'catalog': catalog})

    def table(self, name):
        return self.control('GET', 'table?name=' + name)

    # -------------------------------------------------- raw API calls
    def connection(self, fresh=False):
        if fresh:
            self.close()
        if self._conn is None:
            self._conn = http.client.HTTPSConnection('127.0.0.1', self.port, context=self.ctx, timeout=60)
        return self._conn

    def call(self, method, path, body=None, token=TOKEN, headers=None, raw=None, fresh=False):
        """One request; returns (status, headers, parsed JSON or text)."""
        h = {'Accept': 'application/json'}
        if token is not None:
            h['Authorization'] = 'Bearer ' + token
        if body is not None:
            raw = json.dumps(body)
            h['Content-Type'] = 'application/json'
        h.update(headers or {})
        c = self.connection(fresh)
        try:
            c.request(method, path, body=raw, headers=h)
            r = c.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        text = data.decode('utf-8', 'replace')
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return r.status, r.headers, parsed

    def execute(self, statement, wait='50s', catalog='main', **kw):
        body = {'warehouse_id': WAREHOUSE, 'statement': statement, 'wait_timeout': wait, 'catalog': catalog}
        body.update(kw)
        status, _, ans = self.call('POST', '/api/2.0/sql/statements', body)
        if status != 200:
            raise RuntimeError('POST statements: %d %s' % (status, ans))
        return ans

    def wait(self, statement_id, timeout=30):
        deadline = time.time() + timeout
        while True:
            status, _, ans = self.call('GET', '/api/2.0/sql/statements/' + statement_id)
            if ans['status']['state'] not in ('PENDING', 'RUNNING') or time.time() > deadline:
                return ans
            time.sleep(0.02)
