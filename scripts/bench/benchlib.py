"""What the Python benchmarks share: percentiles, a figure that refuses an
impossible value, and a free loopback port."""
import socket


def p(values, q):
    """The q-quantile of `values` (nearest rank)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def figure(label, value, unit='ms'):
    """Prints one figure; a zero or negative one is a broken measurement."""
    if value <= 0:
        raise SystemExit(f'bench: {label} = {value}: impossible, the measurement is broken')
    print(f'  {label:<58} {value:9.1f} {unit}')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port
