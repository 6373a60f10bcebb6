"""A test client for the word-mapping server: three requests, three tests.

The result is the ``ar.TestReport`` of those tests. A refused connection
returns ``ar.Maybe``, so under a retry property the client tries again later.
"""

import socket

import ansar.create as ar


class Settings(object):
    def __init__(self, host='127.0.0.1', port=65432):
        self.host = host
        self.port = port


ar.bind(Settings, object_schema={'host': str, 'port': int})


def client(self, settings):
    try:
        s = socket.create_connection((settings.host, settings.port), timeout=5.0)
    except ConnectionRefusedError as e:
        self.warning(f'Session error - "{e}"')
        return ar.Maybe()
    except OSError as e:
        self.warning(f'Session error - "{e}"')
        return ar.Cannot()

    with s:
        self.console(f'Connected to {s.getpeername()}')
        try:
            exchange(self, s)
        except OSError as e:
            self.warning(f'Session error - "{e}"')
            return ar.Maybe()

    ar.test_enquiry(self)
    return self.select(ar.TestReport)


ar.bind(client)


def exchange(self, s):
    """Send each word and test the reply (line numbers as in the tour)."""
    word, expect = b'eager', b'fervent'
    s.sendall(word)
    reply = s.recv(1024)
    self.test(reply == expect, f"Expected {expect} for {word}, got {reply}")

    word, expect = b'explain', b'define'
    s.sendall(word)
    reply = s.recv(1024)
    self.test(reply == expect, f"Expected {expect} for {word}, got {reply}")

    word, expect = b'fly', b'droll'
    s.sendall(word)
    reply = s.recv(1024)
    self.test(reply == expect, f"Expected {expect} for {word}, got {reply}")


factory_settings = Settings()

if __name__ == '__main__':
    ar.create_object(client, factory_settings=factory_settings)
