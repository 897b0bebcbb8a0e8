#!/usr/bin/env python3
"""Tessera against iipsrv, in the same run, on this machine.

Makes the test images once (into ~/.cache/tessera-bench unless
TESSERA_BENCH_CACHE says otherwise), starts Tessera (embedded HTTP) and
iipsrv (Debian's, under spawn-fcgi -F <cores> behind nginx, as deployed) on
127.0.0.1, and drives each workload with wrk cycling through a URL list made
with a fixed seed. The servers alternate; every measurement is repeated and
the median is reported with the spread (min-max). nginx serving the hot
tile's bytes as a static file is measured too, as the ceiling.

Run by `make bench`; see --help for the knobs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IIPSRV = Path("/usr/lib/iipimage-server/iipsrv.fcgi")
PHOTO = Path("/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg")
IMAGES_VERSION = "3"  # bump when the recipe below changes: the images are remade
CLK_TCK = os.sysconf("SC_CLK_TCK")
SEED = 20240611
URLS_PER_LIST = 20000


def log(msg: str) -> None:
    print(msg, flush=True)


def run(cmd: list[str], **kw) -> None:
    log("  $ " + " ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


# --- test images -------------------------------------------------------------

def make_images(cache: Path) -> Path:
    """The pyramids and JP2s, made once; returns the folder the servers serve."""
    images = cache / "images"
    stamp = images / f".made-v{IMAGES_VERSION}"
    if stamp.exists():
        return images
    if not PHOTO.exists():
        sys.exit(f"missing {PHOTO}: run scripts/bench-setup.sh")
    images.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-make-", dir=cache))
    try:
        log(f"bench: making the test images in {images} (once; a few minutes)")
        # A photograph of a painting, 5640x3172, enlarged 1.8x (keeps the
        # brush and canvas texture that makes JPEG work hard), then tiled with
        # mirrored copies so no seam shows, and cut to 20000x15000.
        run(["vips", "resize", PHOTO, work / "p.v", "1.8", "--kernel", "lanczos3"])
        run(["vips", "flip", work / "p.v", work / "ph.v", "horizontal"])
        run(["vips", "flip", work / "p.v", work / "pv.v", "vertical"])
        run(["vips", "flip", work / "ph.v", work / "pvh.v", "vertical"])
        tiles = " ".join(str(work / n) for n in ["p.v", "ph.v", "pv.v", "pvh.v", "p.v", "ph.v"])
        run(["vips", "arrayjoin", tiles, work / "m.v", "--across", "2"])
        run(["vips", "crop", work / "m.v", work / "big.v", "0", "0", "20000", "15000"])
        common = ["--tile", "--tile-width", "256", "--tile-height", "256", "--pyramid"]
        run(["vips", "tiffsave", work / "big.v", images / "photo_jpeg.tif", *common,
             "--compression", "jpeg", "--Q", "90"])
        run(["vips", "tiffsave", work / "big.v", images / "photo_deflate.tif", *common,
             "--compression", "deflate", "--predictor", "horizontal"])
        # JPEG 2000 at 8000x6000 with the Ghent University Library's settings.
        run(["vips", "resize", work / "big.v", work / "small.ppm", "0.4", "--kernel", "lanczos3"])
        ghent = ["-n", "9", "-r", "320,160,80,40,20,10,5,2", "-p", "RPCL",
                 "-c", "[256,256],[256,256],[128,128]", "-b", "64,64", "-SOP", "-PLT",
                 "-TP", "R", "-threads", "ALL_CPUS"]
        run(["opj_compress", "-i", work / "small.ppm", "-o", images / "photo.jp2", *ghent],
            stdout=subprocess.DEVNULL)
        run(["opj_compress", "-i", work / "small.ppm", "-o", images / "photo_tiled.jp2", *ghent,
             "-t", "1024,1024"], stdout=subprocess.DEVNULL)
        stamp.write_text(f"made {datetime.datetime.now().isoformat()}\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return images


@dataclass
class Level:
    width: int
    height: int
    tile_w: int
    tile_h: int
    scale: int


def levels_of(tessera: Path, image: Path) -> list[Level]:
    """The pyramid as Tessera reads it (`tessera info`)."""
    out = subprocess.run([str(tessera), "info", str(image)], check=True, capture_output=True,
                         text=True).stdout
    levels = []
    for m in re.finditer(r"level \d+: (\d+)x(\d+), tiles (\d+)x(\d+) \(\d+x\d+\), scale ([\d.]+)",
                         out):
        w, h, tw, th, s = m.groups()
        levels.append(Level(int(w), int(h), int(tw), int(th), round(float(s))))
    if not levels:
        sys.exit(f"cannot read the levels of {image}:\n{out}")
    return levels


# --- workloads and their URLs ------------------------------------------------

@dataclass
class Req:
    """One request, in terms both protocols can say."""
    kind: str  # "tile" or "region"
    image: str
    # tile: level (0 = full), tx, ty, on a grid of `grid` px at that level
    level: int = 0
    tx: int = 0
    ty: int = 0
    grid: int = 256
    # region: full-resolution rectangle and output width (0 = full region)
    x: int = 0
    y: int = 0
    w: int = 0
    h: int = 0
    out_w: int = 0


@dataclass
class Workload:
    name: str
    title: str
    image: str
    requests: list[Req]
    ceiling: bool = False  # also measure nginx serving the bytes statically
    slow: int = 1  # runs last this many times --duration: few requests finish otherwise


def tile_region(levels: list[Level], r: Req) -> tuple[int, int, int, int, int]:
    """Full-resolution region and output width of a tile request."""
    lv = levels[r.level]
    lx, ly = r.tx * r.grid, r.ty * r.grid
    lw, lh = min(r.grid, lv.width - lx), min(r.grid, lv.height - ly)
    full_w, full_h = levels[0].width, levels[0].height
    x, y = lx * lv.scale, ly * lv.scale
    w, h = min(lw * lv.scale, full_w - x), min(lh * lv.scale, full_h - y)
    return x, y, w, h, lw


def iiif_path(levels: dict[str, list[Level]], r: Req) -> str:
    if r.kind == "tile":
        x, y, w, h, out_w = tile_region(levels[r.image], r)
        return f"{r.image}/{x},{y},{w},{h}/{out_w},/0/default.jpg"
    if r.w == 0:
        return f"{r.image}/full/{r.out_w},/0/default.jpg"
    return f"{r.image}/{r.x},{r.y},{r.w},{r.h}/{r.out_w},/0/default.jpg"


def iip_query(levels: dict[str, list[Level]], iip_res: dict[str, int], r: Req,
              iip_tile: dict[str, int] | None = None) -> str:
    """The IIP request for `r`; iip_res is how many resolutions the server's OBJ reply
    gives for each file (iipsrv leaves out JPEG 2000 levels smaller than a tile, Tessera
    does not), iip_tile its Tile-size where that is not each level's own tile width
    (Tessera gives a tiled JPEG 2000's codestream tile size, iipsrv 256)."""
    lv = levels[r.image]
    jtl_grid = iip_tile[r.image] if iip_tile else lv[r.level].tile_w
    if r.kind == "tile" and r.grid == jtl_grid:
        index = r.ty * -(-lv[r.level].width // r.grid) + r.tx
        return f"FIF={r.image}&JTL={iip_res[r.image] - 1 - r.level},{index}"
    if r.kind == "tile":
        x, y, w, h, out_w = tile_region(lv, r)
    else:
        x, y, w, h, out_w = r.x, r.y, r.w, r.h, r.out_w
        if w == 0:
            return f"FIF={r.image}&WID={out_w}&CVT=jpeg"
    fw, fh = lv[0].width, lv[0].height
    return (f"FIF={r.image}&RGN={x / fw:.8f},{y / fh:.8f},{w / fw:.8f},{h / fh:.8f}"
            f"&WID={out_w}&CVT=jpeg")


def random_tiles(rng: random.Random, image: str, levels: list[Level], n: int,
                 grid: int | None = None) -> list[Req]:
    """Tiles drawn uniformly from all tiles of all levels."""
    grids = []
    for i, lv in enumerate(levels):
        g = grid or lv.tile_w
        grids.append((i, g, -(-lv.width // g), -(-lv.height // g)))
    weights = [a * d for _, _, a, d in grids]
    out = []
    for _ in range(n):
        i, g, across, down = rng.choices(grids, weights)[0]
        out.append(Req("tile", image, level=i, tx=rng.randrange(across), ty=rng.randrange(down),
                       grid=g))
    return out


def make_workloads(levels: dict[str, list[Level]], iip_res: dict[str, int]) -> list[Workload]:
    # Random tiles come only from the levels both servers have.
    levels = {f: lv[:iip_res[f]] for f, lv in levels.items()}
    rng = random.Random(SEED)
    jpeg = levels["photo_jpeg.tif"]
    mid = Req("tile", "photo_jpeg.tif", level=0, tx=jpeg[0].width // 512,
              ty=jpeg[0].height // 512)
    full_w, full_h = jpeg[0].width, jpeg[0].height
    regions = []
    for _ in range(URLS_PER_LIST):
        regions.append(Req("region", "photo_jpeg.tif", x=rng.randrange(full_w - 1024),
                           y=rng.randrange(full_h - 1024), w=1024, h=1024, out_w=512))
    return [
        Workload("hot", "hot tile (one JPEG-TIFF tile, over and over)", "photo_jpeg.tif", [mid],
                 ceiling=True),
        Workload("tiles", "random tiles, all levels, JPEG TIFF", "photo_jpeg.tif",
                 random_tiles(rng, "photo_jpeg.tif", jpeg, URLS_PER_LIST)),
        Workload("deflate", "random tiles, all levels, deflate TIFF", "photo_deflate.tif",
                 random_tiles(rng, "photo_deflate.tif", levels["photo_deflate.tif"],
                              URLS_PER_LIST)),
        Workload("regions", "random 1024x1024 regions scaled to 512 wide", "photo_jpeg.tif",
                 regions),
        Workload("whole", "whole image scaled to 1000 wide", "photo_jpeg.tif",
                 [Req("region", "photo_jpeg.tif", out_w=1000)]),
        # JP2: a 256 px grid at every level for both servers, whatever the
        # codestream's own tiling, so both decode the same areas.
        Workload("jp2", "random 256 px tiles, JP2 (Ghent settings, untiled)", "photo.jp2",
                 random_tiles(rng, "photo.jp2", levels["photo.jp2"], URLS_PER_LIST, grid=256),
                 slow=3),
        Workload("jp2-tiled", "random 256 px tiles, JP2 (Ghent settings, 1024 tiles)",
                 "photo_tiled.jp2",
                 random_tiles(rng, "photo_tiled.jp2", levels["photo_tiled.jp2"], URLS_PER_LIST,
                              grid=256), slow=2),
    ]


# --- processes ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no answer from {url}")


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (whole process)
    except OSError:
        return 0


def vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Server:
    name = ""
    base = ""

    def pids(self) -> list[int]:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class Tessera(Server):
    def __init__(self, binary: Path, images: Path, tmp: Path):
        self.name = "Tessera"
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, VERBOSITY="0")
        self.log = open(tmp / "tessera.log", "w")
        self.proc = subprocess.Popen([str(binary), "serve", str(images), "--host", "127.0.0.1",
                                      "--port", str(port)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_http(self.base + "/")

    def pids(self) -> list[int]:
        return [self.proc.pid]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


NGINX_CONF = """\
{user}
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  types {{ image/jpeg jpg; }}
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    # iipsrv's recommended nginx set-up (its README), over TCP.
    location /fcgi-bin/iipsrv.fcgi {{
      fastcgi_pass 127.0.0.1:{fcgi_port};
      fastcgi_param PATH_INFO $fastcgi_script_name;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param SERVER_NAME $server_name;
      fastcgi_param SERVER_PORT $server_port;
    }}
    location /static/ {{ alias {static}/; }}
  }}
}}
"""


class Iipsrv(Server):
    """iipsrv.fcgi under spawn-fcgi -F <cores>, behind nginx."""

    def __init__(self, images: Path, static: Path, tmp: Path, cores: int, cache_mb: float,
                 verbosity: int = 0):
        self.name = "iipsrv"
        self.tmp = tmp
        port, fcgi_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, FILESYSTEM_PREFIX=str(images) + "/", VERBOSITY=str(verbosity),
                   LOGFILE=str(tmp / "iipsrv.log"), MAX_IMAGE_CACHE_SIZE=str(cache_mb),
                   JPEG_QUALITY="75", MAX_CVT="5000")
        pidfile = tmp / "iipsrv.pids"
        pidfile.unlink(missing_ok=True)
        subprocess.run(["spawn-fcgi", "-a", "127.0.0.1", "-p", str(fcgi_port), "-F", str(cores),
                        "-P", str(pidfile), "--", str(IIPSRV)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        self.fcgi_pids = [int(p) for p in pidfile.read_text().split()]
        user = f"user {os.getenv('USER') or 'root'};" if os.geteuid() == 0 else ""
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, workers=cores, tmp=tmp, port=port,
                                          fcgi_port=fcgi_port, static=static))
        self.nginx_log = open(tmp / "nginx.out", "w")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"  # /usr/sbin: not on every PATH
        self.nginx = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp),
                                       "-e", str(tmp / "nginx-error.log")],
                                      stdout=self.nginx_log, stderr=subprocess.STDOUT)
        wait_http(self.base + "/static/")
        end = time.time() + 5
        while len(children(self.nginx.pid)) < cores and time.time() < end:
            time.sleep(0.05)

    def nginx_pids(self) -> list[int]:
        return [self.nginx.pid, *children(self.nginx.pid)]

    def pids(self) -> list[int]:
        return [*self.fcgi_pids, *self.nginx_pids()]

    def stop(self) -> None:
        self.nginx.send_signal(signal.SIGQUIT)
        try:
            self.nginx.wait(10)
        except subprocess.TimeoutExpired:
            self.nginx.kill()
            self.nginx.wait()
        for pid in self.fcgi_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.nginx_log.close()


def iip_resolutions(iipsrv: Iipsrv, files: list[str]) -> dict[str, int]:
    out = {}
    for f in files:
        text = fetch(f"{iipsrv.base}/fcgi-bin/iipsrv.fcgi?FIF={f}&obj=IIP,1.0&obj=Resolution-number")
        m = re.search(rb"Resolution-number:(\d+)", text)
        if not m:
            sys.exit(f"iipsrv cannot read {f}: {text[:300]!r}")
        out[f] = int(m.group(1))
    return out


class NginxStatic(Server):
    """The nginx in front of iipsrv, serving one file: counts nginx alone."""

    def __init__(self, iipsrv: Iipsrv):
        self.name = "nginx static"
        self.base = iipsrv.base
        self.iipsrv = iipsrv

    def pids(self) -> list[int]:
        return self.iipsrv.nginx_pids()

    def stop(self) -> None:
        pass


class TesseraOverIip(Server):
    """The same Tessera process, asked in IIP (iipsrv's own URLs)."""

    def __init__(self, tessera: Tessera):
        self.name = "Tessera IIP"
        self.base = tessera.base
        self.tessera = tessera

    def pids(self) -> list[int]:
        return self.tessera.pids()

    def stop(self) -> None:
        pass


# --- measuring ---------------------------------------------------------------

WRK_LUA = r"""
-- Cycles through the paths in the file named by the first argument; each
-- wrk thread starts at its own place in the list.
local paths = {}
local i = 0
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = ((id or 1) - 1) * 7919 % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"status":%d,"connect":%d,' ..
    '"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float  # server CPU per request


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    rss_mb: float = 0.0

    def values(self, attr: str) -> list[float]:
        return [v for v in (getattr(s, attr) for s in self.samples) if v == v]  # drop NaN

    def median(self, attr: str) -> float:
        values = self.values(attr)
        return statistics.median(values) if values else float("nan")

    def spread(self, attr: str) -> tuple[float, float]:
        values = self.values(attr)
        return (min(values), max(values)) if values else (float("nan"), float("nan"))


def drain(pids: list[int], limit: float = 120.0) -> None:
    """Waits until the server is idle: requests whose client has gone (wrk closes its
    connections at the end of a run) may still be decoding, and must not eat into the
    next run, which is usually the other server's."""
    end = time.time() + limit
    last = sum(cpu_ticks(p) for p in pids)
    while time.time() < end:
        time.sleep(0.5)
        now = sum(cpu_ticks(p) for p in pids)
        if now - last <= 1:  # at most one tick in half a second: idle
            return
        last = now
    log(f"  WARNING server still busy {limit:.0f} s after the run")


def run_wrk(server: Server, url_file: Path, lua: Path, conns: int, seconds: int,
            threads: int) -> Sample:
    pids = server.pids()
    before = sum(cpu_ticks(p) for p in pids)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s",
                          "--timeout", "30s", "-s", str(lua), server.base, "--", str(url_file)],
                         capture_output=True, text=True)
    # The work still queued when wrk stops was caused by this run: count it here.
    drain(pids)
    after = sum(cpu_ticks(p) for p in pids)
    m = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not m:
        raise RuntimeError(f"wrk failed:\n{out.stdout}\n{out.stderr}")
    d = json.loads(m.group(1))
    n = d["requests"]
    errors = d["status"] + d["connect"] + d["read"] + d["write"] + d["timeout"]
    return Sample(rps=d["requests"] / (d["duration_us"] / 1e6), p50_ms=d["p50_us"] / 1000,
                  p99_ms=d["p99_us"] / 1000, errors=errors,
                  cpu_ms=(after - before) * 1000 / CLK_TCK / n if d["requests"] else float("nan"))


def check_urls(server: Server, paths: list[str], count: int = 5) -> None:
    """A few requests before measuring: any failure is shown, not hidden in a rate."""
    for path in paths[:count]:
        try:
            with urllib.request.urlopen(server.base + path, timeout=60) as r:
                if r.status != 200:
                    log(f"  WARNING {server.name} {path}: HTTP {r.status}")
        except urllib.error.HTTPError as e:
            log(f"  WARNING {server.name} {path}: HTTP {e.code} {e.read()[:200]!r}")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


# --- report ------------------------------------------------------------------

def fmt_num(v: float) -> str:
    if v != v:  # NaN: nothing to divide by (no request finished)
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_spread(r: Result, attr: str) -> str:
    lo, hi = r.spread(attr)
    return f"{fmt_num(r.median(attr))} ({fmt_num(lo)}–{fmt_num(hi)})"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b > 0 and a == a else "–"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB, {platform.system()} {platform.release()}"


def versions() -> str:
    def pkg(name: str) -> str:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                           text=True)
        return r.stdout.strip() or "?"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return (f"Tessera {commit}, iipimage-server {pkg('iipimage-server')}, "
            f"nginx-light {pkg('nginx-light')}, wrk {pkg('wrk')}")


def report(results: dict, workloads: list[Workload], args, iip_proto: str, started: str) -> str:
    lines = []
    add = lines.append
    add("# Benchmarks: Tessera and iipsrv, same run, same machine")
    add("")
    add(f"- date: {started}")
    add(f"- machine: {machine()}; load average (1 min) at start {args.load_start:.1f}, "
        f"at end {os.getloadavg()[0]:.1f} (other work on the machine shows here)")
    add(f"- software: {versions()}")
    add(f"- command: `make bench` (`{' '.join(sys.argv)}`)")
    add(f"- each cell: median of {args.reps} runs of {args.duration} s with wrk "
        f"(-t {args.wrk_threads}), spread (min–max) in brackets; servers alternate run by run")
    add(f"- Tessera: `tessera serve` (embedded HTTP, one worker per core, VERBOSITY=0); "
        f"iipsrv: `spawn-fcgi -F {args.cores}` behind nginx ({args.cores} workers), "
        f"MAX_IMAGE_CACHE_SIZE={args.iipsrv_cache_mb}, VERBOSITY=0, its own protocol: "
        f"{iip_proto.upper()}; JPEG quality 75 on both")
    add("- CPU ms/req: utime+stime of every server process (for iipsrv: its FastCGI "
        "processes and nginx) from the start of the run until the server is idle again "
        "(requests left queued when wrk stops are finished or dropped before the next run "
        "starts), per completed request; peak RSS: VmHWM summed over those processes at the "
        "end of the workload (servers restart for each workload)")
    add("- errors: HTTP status ≥ 400 plus socket errors and time-outs, as wrk counts them")
    add("- latency: wrk keeps one request outstanding per connection (a closed loop), so a "
        "reply that must be rendered waits for the renders queued ahead of it: about "
        "connections × CPU per render ÷ cores. Tessera answers what its response cache holds "
        "on its network threads, without queueing, so its p50 and p99 are those of its "
        "renders; iipsrv's cached replies wait in the same queue as its renders and make "
        "that queue shorter by its cache's hit rate")
    add("")
    if args.note:
        add(f"> {args.note}")
        add("")
    add("## Summary: Tessera (IIIF URLs) / iipsrv")
    add("")
    add("| workload | conns | Tessera req/s | iipsrv req/s | req/s ratio | p99 ms T / I | "
        "p99 ratio | CPU ms/req T / I | CPU ratio | peak RSS MB T / I | RSS ratio | errors T / I |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in workloads:
        for c in args.connections:
            t, i = results.get((w.name, c, "Tessera")), results.get((w.name, c, "iipsrv"))
            if not t or not i or not t.samples or not i.samples:
                continue
            add(f"| {w.name} | {c} | {fmt_num(t.median('rps'))} | {fmt_num(i.median('rps'))} | "
                f"{ratio(t.median('rps'), i.median('rps'))} | "
                f"{fmt_num(t.median('p99_ms'))} / {fmt_num(i.median('p99_ms'))} | "
                f"{ratio(t.median('p99_ms'), i.median('p99_ms'))} | "
                f"{fmt_num(t.median('cpu_ms'))} / {fmt_num(i.median('cpu_ms'))} | "
                f"{ratio(t.median('cpu_ms'), i.median('cpu_ms'))} | "
                f"{fmt_num(t.rss_mb)} / {fmt_num(i.rss_mb)} | {ratio(t.rss_mb, i.rss_mb)} | "
                f"{sum(s.errors for s in t.samples)} / {sum(s.errors for s in i.samples)} |")
    add("")
    iip_rows = [(w, c, results.get((w.name, c, "Tessera IIP")), results.get((w.name, c, "iipsrv")))
                for w in workloads for c in args.connections]
    iip_rows = [x for x in iip_rows if x[2] and x[3] and x[2].samples and x[3].samples]
    if iip_rows:
        add("## Tessera asked in IIP (iipsrv's own URLs) / iipsrv")
        add("")
        add("| workload | conns | Tessera IIP req/s | iipsrv req/s | req/s ratio | "
            "p99 ms T / I | p99 ratio | errors T / I |")
        add("|---|---:|---:|---:|---:|---:|---:|---:|")
        for w, c, t, i in iip_rows:
            add(f"| {w.name} | {c} | {fmt_num(t.median('rps'))} | {fmt_num(i.median('rps'))} | "
                f"{ratio(t.median('rps'), i.median('rps'))} | "
                f"{fmt_num(t.median('p99_ms'))} / {fmt_num(i.median('p99_ms'))} | "
                f"{ratio(t.median('p99_ms'), i.median('p99_ms'))} | "
                f"{sum(s.errors for s in t.samples)} / {sum(s.errors for s in i.samples)} |")
        add("")
    ceilings = [(w, c, results.get((w.name, c, "Tessera")), results.get((w.name, c, "nginx static")))
                for w in workloads for c in args.connections]
    ceilings = [x for x in ceilings if x[2] and x[3] and x[2].samples and x[3].samples]
    if ceilings:
        add("## The ceiling: nginx serving the same tile bytes as a static file")
        add("")
        add("| workload | conns | nginx static req/s | Tessera req/s | Tessera / nginx |")
        add("|---|---:|---:|---:|---:|")
        for w, c, t, n in ceilings:
            add(f"| {w.name} | {c} | {fmt_num(n.median('rps'))} | {fmt_num(t.median('rps'))} | "
                f"{ratio(t.median('rps'), n.median('rps'))} |")
        add("")
    add("## Details")
    add("")
    add("| workload | conns | server | req/s | p50 ms | p99 ms | CPU ms/req | peak RSS MB | errors |")
    add("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for w in workloads:
        for c in args.connections:
            for name in ("Tessera", "Tessera IIP", "iipsrv", "nginx static"):
                r = results.get((w.name, c, name))
                if not r or not r.samples:
                    continue
                add(f"| {w.name} | {c} | {name} | {fmt_spread(r, 'rps')} | "
                    f"{fmt_spread(r, 'p50_ms')} | {fmt_spread(r, 'p99_ms')} | "
                    f"{fmt_spread(r, 'cpu_ms')} | {fmt_num(r.rss_mb)} | "
                    f"{sum(s.errors for s in r.samples)} |")
    add("")
    add("## Workloads")
    add("")
    for w in workloads:
        runs = f"; runs of {args.duration * w.slow} s" if w.slow > 1 else ""
        add(f"- **{w.name}**: {w.title}; file `{w.image}`; "
            f"{len(w.requests)} URL(s), seed {SEED}{runs}")
    add("")
    add("Images: a photograph of a painting (Debian's mate-backgrounds, "
        "`Elephants_5640x3172.jpg`) enlarged 1.8× and mirrored into 20000×15000, saved by "
        "`vips tiffsave --tile --pyramid` with 256×256 JPEG (Q90) or deflate tiles; the JP2s "
        "are 8000×6000 with opj_compress `-n 9 -r 320,160,80,40,20,10,5,2 -p RPCL "
        "-c [256,256],[256,256],[128,128] -b 64,64 -SOP -PLT -TP R` (and `-t 1024,1024`).")
    add("")
    return "\n".join(lines)


# --- main --------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=str(REPO / "build"), help="build folder with tessera")
    p.add_argument("--cache", default=os.environ.get(
        "TESSERA_BENCH_CACHE", str(Path.home() / ".cache" / "tessera-bench")))
    p.add_argument("--duration", type=int, default=10, help="seconds per run")
    p.add_argument("--reps", type=int, default=3, help="runs per measurement")
    p.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")],
                   default=[16, 64])
    p.add_argument("--workloads", default="", help="comma-separated names (default: all)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1,
                   help="iipsrv processes and nginx workers")
    p.add_argument("--iipsrv-cache-mb", type=float, default=10.0,
                   help="MAX_IMAGE_CACHE_SIZE for iipsrv")
    p.add_argument("--iipsrv-protocol", choices=["iip", "iiif"], default="iip",
                   help="what iipsrv is asked in (default IIP, as deployed)")
    p.add_argument("--tessera-iip", default="/fcgi-bin/iipsrv.fcgi",
                   help="path of Tessera's IIP endpoint: Tessera is measured over IIP there "
                        "as well as over IIIF ('' to leave IIP out)")
    p.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    p.add_argument("--note", default="", help="a line quoted in the report (e.g. the machine's load)")
    p.add_argument("--images-only", action="store_true")
    args = p.parse_args()

    args.load_start = os.getloadavg()[0]
    cache = Path(args.cache)
    images = make_images(cache)
    if args.images_only:
        return 0
    tessera_bin = Path(args.build) / "tessera"
    for tool, hint in ((tessera_bin, "make build"), (Path(shutil.which("wrk") or "/nonexistent"),
                       "scripts/bench-setup.sh"), (IIPSRV, "scripts/bench-setup.sh")):
        if not tool.exists():
            sys.exit(f"missing {tool}: run {hint}")

    files = ["photo_jpeg.tif", "photo_deflate.tif", "photo.jp2", "photo_tiled.jp2"]
    levels = {f: levels_of(tessera_bin, images / f) for f in files}
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    tmp = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    static = tmp / "static"
    static.mkdir()
    probe = Iipsrv(images, static, tmp, 1, args.iipsrv_cache_mb)
    try:
        iip_res = iip_resolutions(probe, files)
    finally:
        probe.stop()
    workloads = make_workloads(levels, iip_res)
    tessera_res = {f: len(lv) for f, lv in levels.items()}
    tessera_tile = {f: lv[0].tile_w for f, lv in levels.items()}
    if args.workloads:
        wanted = args.workloads.split(",")
        workloads = [w for w in workloads if w.name in wanted]

    lua = tmp / "cycle.lua"
    lua.write_text(WRK_LUA)
    urls_dir = cache / "urls"
    urls_dir.mkdir(exist_ok=True)
    results: dict[tuple[str, int, str], Result] = {}
    try:
        for w in workloads:
            log(f"== {w.name}: {w.title}")
            t_paths = [f"/iiif/3/{iiif_path(levels, r)}" for r in w.requests]
            # JTL resolution numbers as each server's own OBJ reply gives
            # them: Tessera lists JPEG 2000 levels smaller than a tile too.
            t_iip_paths = [f"{args.tessera_iip}?{iip_query(levels, tessera_res, r, tessera_tile)}"
                           for r in w.requests] if args.tessera_iip else []
            if args.iipsrv_protocol == "iip":
                i_paths = [f"/fcgi-bin/iipsrv.fcgi?{iip_query(levels, iip_res, r)}" for r in w.requests]
            else:
                i_paths = [f"/fcgi-bin/iipsrv.fcgi?IIIF={iiif_path(levels, r)}"
                           for r in w.requests]
            files_by_server = {}
            for name, paths in (("Tessera", t_paths), ("Tessera IIP", t_iip_paths),
                                ("iipsrv", i_paths)):
                if not paths:
                    continue
                f = urls_dir / f"{w.name}-{name}-{args.iipsrv_protocol}.txt"
                f.write_text("\n".join(paths) + "\n")
                files_by_server[name] = (f, paths)

            tessera = Tessera(tessera_bin, images, tmp)
            iipsrv = Iipsrv(images, static, tmp, args.cores, args.iipsrv_cache_mb)
            servers: list[Server] = [tessera, iipsrv]
            if t_iip_paths:
                servers.insert(1, TesseraOverIip(tessera))
            try:
                if w.ceiling:
                    body = fetch(tessera.base + t_paths[0])
                    (static / "hot.jpg").write_bytes(body)
                    f = urls_dir / f"{w.name}-nginx.txt"
                    f.write_text("/static/hot.jpg\n")
                    files_by_server["nginx static"] = (f, ["/static/hot.jpg"])
                    servers.append(NginxStatic(iipsrv))
                for s in servers:
                    check_urls(s, files_by_server[s.name][1])
                    # Warm-up: file opens, page cache, the servers' own caches.
                    run_wrk(s, files_by_server[s.name][0], lua, args.connections[0], 2,
                            args.wrk_threads)
                for c in args.connections:
                    for rep in range(args.reps):
                        for s in servers:
                            sample = run_wrk(s, files_by_server[s.name][0], lua, c,
                                             args.duration * w.slow, args.wrk_threads)
                            results.setdefault((w.name, c, s.name), Result()).samples.append(
                                sample)
                            log(f"  {w.name:9} c={c:<3} {s.name:12} run {rep + 1}: "
                                f"{sample.rps:9.1f} req/s  p50 {sample.p50_ms:8.2f} ms  "
                                f"p99 {sample.p99_ms:8.2f} ms  cpu {sample.cpu_ms:6.2f} ms/req  "
                                f"errors {sample.errors}")
                for s in servers:
                    rss = sum(vm_hwm_kb(p) for p in s.pids()) / 1024
                    for c in args.connections:
                        if (w.name, c, s.name) in results:
                            results[(w.name, c, s.name)].rss_mb = rss
            finally:
                tessera.stop()
                iipsrv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    text = report(results, workloads, args,
                  "iiif" if args.iipsrv_protocol == "iiif" else "iip", started)
    print()
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    log(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
