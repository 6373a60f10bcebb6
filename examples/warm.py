"""A server that takes a moment to set up, then says it is ready and echoes on TCP until stopped.

After ``setup`` seconds it listens on ``127.0.0.1:port`` and calls ``ar.ready(self)``, which
tells ansar the roles after it (property ``after``) may start when its property ``ready`` is set.
Each connection gets back whatever it sends. For demonstration only: blocking sockets.
"""

import socket

import ansar.create as ar

POLL = 0.25  # how often the blocked socket looks at self.halted


class Settings(object):
    def __init__(self, port=65431, setup=1.0):
        self.port = port
        self.setup = setup


ar.bind(Settings, object_schema={'port': int, 'setup': float})


def echo(self, s):
    """Accept connections until halted; answer each one's bytes with the same bytes."""
    s.settimeout(POLL)
    while not self.halted:
        try:
            connection, _ = s.accept()
        except socket.timeout:
            continue
        with connection:
            connection.settimeout(POLL)
            try:
                data = connection.recv(1024)
                if data:
                    connection.sendall(data)
            except OSError as e:
                self.warning(f'Connection error - "{e}"')
    return ar.Aborted()


ar.bind(echo)


def warm(self, settings):
    self.console(f'Setting up for {settings.setup} seconds')
    self.start(ar.T1, settings.setup)
    if isinstance(self.select(ar.T1, ar.Stop), ar.Stop):
        return ar.Aborted()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(('127.0.0.1', settings.port))
        except OSError as e:
            return ar.Faulted(condition=f'cannot listen on 127.0.0.1:{settings.port}', explanation=str(e))
        s.listen()
        self.console(f'Listening on {s.getsockname()}')
        ar.ready(self)
        server = self.create(echo, s)
        self.select(ar.Stop)
        ar.halt(server)
        self.select(ar.Completed)
    return ar.Aborted()


ar.bind(warm)

factory_settings = Settings()

if __name__ == '__main__':
    ar.create_object(warm, factory_settings=factory_settings)
