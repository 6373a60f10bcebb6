"""A client that needs its server at once: one connection, no retrying.

It connects to ``127.0.0.1:port``, sends a word and expects it back. A refused connection is a
Faulted, so without ordering (property ``after`` and ``ready`` on the server) it fails whenever
it starts first. Its value is an ``ar.TestReport`` of the one exchange.
"""

import socket

import ansar.create as ar


class Settings(object):
    def __init__(self, port=65431):
        self.port = port


ar.bind(Settings, object_schema={'port': int})


def probe(self, settings):
    try:
        s = socket.create_connection(('127.0.0.1', settings.port), timeout=5.0)
    except OSError as e:
        return ar.Faulted(condition=f'no server on 127.0.0.1:{settings.port}', explanation=str(e))
    with s:
        self.console(f'Connected to {s.getpeername()}')
        s.sendall(b'ready?')
        reply = s.recv(1024)
    self.test(reply == b'ready?', f"Expected b'ready?' back, got {reply}")
    ar.test_enquiry(self)
    return self.select(ar.TestReport)


ar.bind(probe)

factory_settings = Settings()

if __name__ == '__main__':
    ar.create_object(probe, factory_settings=factory_settings)
