"""vigil-twin command line: serve a topology, generate one."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from vigil_twin.server import Twin


def _serve(args: argparse.Namespace) -> int:
    from vigil_twin.topology import TopologyError, load_topology

    try:
        topology = load_topology(args.topology)
    except TopologyError as exc:
        print(f"vigil-twin: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    twin = Twin(topology, host=args.host, port=args.port, speed=args.speed)
    info = {"url": twin.url, "pid": os.getpid(), "startup_seconds": round(time.monotonic() - started, 3)}
    if getattr(twin.cloud, "maas_url", None):  # MAAS credentials for clients that are not openstacksdk
        info.update(maas_url=twin.cloud.maas_url, maas_api_key=twin.cloud.maas_api_key)
    if args.clouds_yaml:
        from vigil_twin.topology import write_clouds_yaml

        write_clouds_yaml(twin, args.clouds_yaml)
        info["clouds_yaml"] = args.clouds_yaml
    if args.info_file:
        tmp = args.info_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(info, fh)
        os.replace(tmp, args.info_file)  # readers never see a half-written file
    print(json.dumps(info), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        twin.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        twin.stop()
    return 0


def _generate(args: argparse.Namespace) -> int:
    from vigil_twin.generator import generate
    from vigil_twin.topology import dump_topology

    topology = generate(nodes=args.nodes, servers=args.servers, volumes=args.volumes, seed=args.seed)
    dump_topology(topology, args.output)
    return 0


def _label(text: str) -> str:
    key, sep, _ = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return text


def _history(args: argparse.Namespace) -> int:
    from vigil_twin.services.metrics import write_history
    from vigil_twin.topology import TopologyError, load_topology

    try:
        twin = Twin(load_topology(args.topology))  # not started: only its stores are needed
    except TopologyError as exc:  # services validate their own sections while loading
        print(f"vigil-twin: {exc}", file=sys.stderr)
        return 2
    labels = dict(item.split("=", 1) for item in args.label)
    try:
        samples = write_history(twin.cloud, args.output, args.hours, args.step, args.end, labels)
    finally:
        twin.httpd.server_close()  # never served: shutdown() would wait for a loop that never ran
        twin.cloud.close()
    print(json.dumps({"output": args.output, "samples": samples}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vigil-twin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve a topology on 127.0.0.1")
    serve.add_argument("--topology", required=True, help="topology file (YAML/JSON) or a vigil model snapshot")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--speed", type=float, default=1.0, help="time factor: 10 makes a 30 s migration take 3 s")
    serve.add_argument("--clouds-yaml", help="write a clouds.yaml for this twin (cloud name: vigil-twin)")
    serve.add_argument("--info-file", help="write {url, pid, ...} as JSON once listening")
    serve.set_defaults(func=_serve)

    gen = sub.add_parser("generate", help="generate a reproducible cluster topology")
    gen.add_argument("--nodes", type=int, default=20)
    gen.add_argument("--servers", type=int, default=200)
    gen.add_argument("--volumes", type=int, default=0)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--output", "-o", default="-", help="file to write (.yaml/.json), - for stdout")
    gen.set_defaults(func=_generate)

    hist = sub.add_parser("history", help="write the twin's metric series as an OpenMetrics history file")
    hist.add_argument("--topology", required=True, help="topology file (YAML/JSON)")
    hist.add_argument("--hours", type=float, default=24.0, help="how far back the history goes")
    hist.add_argument("--step", type=float, default=60.0, help="seconds between samples")
    hist.add_argument("--end", type=float, default=None, help="last timestamp (epoch seconds), default now")
    hist.add_argument(
        "--output", "-o", required=True, help="file to write, for promtool tsdb create-blocks-from openmetrics"
    )
    hist.add_argument(
        "--label", action="append", default=[], type=_label, help="KEY=VALUE added to every series (repeatable)"
    )
    hist.set_defaults(func=_history)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
