"""The harness's Xray access lines: deterministic for a seed, each an accepted connection with an email.

Clients: 5,000 distinct addresses, about one in ten a bracketed IPv6 one, about 7 % of sources written
`from tcp:` (mux). Users: 800 emails `<id>.<name>`, some names with a dot. Destinations: domains, IPv4, IPv6
and udp. Detours written `>>` and `->`. A burst file's timestamps rise strictly, so a line's timestamp names it.
"""
import calendar
import os
import random
import re
import time

GENERATOR = "g1"  # in the cache file names: change it whenever the lines change
FIRST_SECOND = calendar.timegm((2025, 1, 15, 10, 20, 30))
NAMES = ["anna", "boris", "chen", "dana", "elif", "farid", "gul", "hana", "ivan.petrov", "jamal", "kim", "lena",
         "maria", "nima", "olga", "pavel", "reza", "sara.k", "timur", "umar", "vera", "yasmin"]
SITES = ["www.google.com", "www.youtube.com", "rr3.googlevideo.com", "api.telegram.org", "web.whatsapp.com",
         "i.instagram.com", "static.cdninstagram.com", "www.wikipedia.org", "github.com", "open.spotify.com",
         "discord.com", "x.com", "pbs.twimg.com", "chatgpt.com", "www.apple.com", "dns.google"]
INBOUNDS = ["VLESS TCP REALITY", "VLESS TCP REALITY", "VMess Websocket", "Trojan gRPC", "Shadowsocks TCP"]
OUTBOUNDS = ["DIRECT"] * 12 + ["BLOCK", "WARP"]
CANARY_BODY = "from 192.0.2.1:40000 accepted tcp:canary.invalid:443 [VLESS TCP REALITY >> DIRECT] email: 1.canary\n"
# a generated line, read back by the checks
LINE = re.compile(r"^(?P<stamp>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6}) from (?:tcp:)?(?P<client>\[[0-9a-f:]+\]|[0-9.]+):\d+ "
                  r"accepted (?P<network>tcp|udp):\S+ \[(?P<inbound>.+?) (?:>>|->) (?P<outbound>[^\]]+)\] "
                  r"email: (?P<email>\S+)$")
# a line's timestamp inside any JSON element (rsyslog writes "/" as "\/")
STAMP = re.compile(rb"\d{4}\\?/\d\d\\?/\d\d \d\d:\d\d:\d\d\.\d{6}")


def bodies(seed):
    """Endless line bodies, the text after the timestamp and its space, newline included."""
    rng = random.Random(seed)

    def ipv4():
        return "%d.%d.%d.%d" % (rng.randint(5, 223), rng.randrange(256), rng.randrange(256), rng.randint(1, 254))

    clients = set()
    while len(clients) < 5000:
        if rng.random() < 0.1:
            clients.add("[2001:db8:%x:%x::%x]" % (rng.randrange(1, 65536), rng.randrange(65536), rng.randrange(1, 65536)))
        else:
            clients.add(ipv4())
    clients = sorted(clients)
    emails = ["%d.%s" % (number, rng.choice(NAMES)) for number in range(1, 801)]
    while True:
        pick = rng.random()
        if pick < 0.08:
            destination = "udp:%s:%d" % (ipv4(), rng.choice([53, 443, 3478]))
        elif pick < 0.11:
            destination = "tcp:[2a00:1450:4017:%x::%x]:443" % (rng.randrange(65536), rng.randrange(1, 65536))
        elif pick < 0.25:
            destination = "tcp:%s:%d" % (ipv4(), rng.choice([443, 443, 80, 8443]))
        else:
            destination = "tcp:%s:%d" % (rng.choice(SITES), rng.choice([443, 443, 443, 80]))
        yield "from %s%s:%d accepted %s [%s %s %s] email: %s\n" % (
            "tcp:" if rng.random() < 0.07 else "", rng.choice(clients), rng.randint(1024, 65535), destination,
            rng.choice(INBOUNDS), "->" if rng.random() < 0.1 else ">>", rng.choice(OUTBOUNDS), rng.choice(emails))


def stamp(seconds):
    """Xray's timestamp for epoch seconds, in UTC to the microsecond."""
    whole = int(seconds)
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(whole)) + ".%06d" % int((seconds - whole) * 1e6)


def seconds_of(text):
    """The epoch seconds of a timestamp written by stamp()."""
    whole = calendar.timegm(time.strptime(text[:19], "%Y/%m/%d %H:%M:%S"))
    return whole + int(text[20:26]) / 1e6


def burst_file(cache_dir, count, seed):
    """count lines, their timestamps rising by 50-900 µs from FIRST_SECOND; made once, then cached."""
    path = os.path.join(cache_dir, "xray-access-%s-s%d-n%d.log" % (GENERATOR, seed, count))
    if os.path.exists(path):
        return path
    os.makedirs(cache_dir, exist_ok=True)
    partial = "%s.%d.partial" % (path, os.getpid())
    steps = random.Random(seed + 1)
    micros = FIRST_SECOND * 1_000_000
    source = bodies(seed)
    second, prefix = None, ""
    with open(partial, "w", buffering=1 << 20) as out:
        for _ in range(count):
            micros += steps.randint(50, 900)
            whole, fraction = divmod(micros, 1_000_000)
            if whole != second:
                second, prefix = whole, time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(whole))
            out.write("%s.%06d %s" % (prefix, fraction, next(source)))
    os.replace(partial, path)
    return path
