#!/usr/bin/env python3
"""Reads what libmlcrt's tracking sinks wrote with the formats' own readers.

  read_tracking.py RUN_DIR MLRUNS_ROOT

TensorBoard: every TFRecord's masked CRC-32C is checked with crcmod and the
Event protobufs are decoded by Google's protobuf runtime, from a subset of
TensorBoard's event.proto compiled by protoc here. MLflow: the store is read
the way mlflow/store/tracking/file_store.py reads it (yaml.safe_load of each
meta.yaml, the id checks it makes, a metric's value is the one at the
greatest (step, timestamp, value)). Prints what it read; any mismatch with
the formats raises.
"""

import glob
import os
import struct
import subprocess
import sys
import tempfile
import urllib.parse

import crcmod.predefined
import yaml

# Field numbers as in tensorflow/core/util/event.proto and
# tensorflow/core/framework/summary.proto.
EVENT_PROTO = """
syntax = "proto3";
package mlc_reader;
message Summary {
  message Value {
    string tag = 1;
    oneof value { float simple_value = 2; }
  }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
"""

RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

crc32c = crcmod.predefined.mkPredefinedCrcFun("crc-32c")


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def event_module(tmp):
    with open(os.path.join(tmp, "event.proto"), "w") as f:
        f.write(EVENT_PROTO)
    subprocess.run(["protoc", "--proto_path=" + tmp, "--python_out=" + tmp, "event.proto"], check=True)
    sys.path.insert(0, tmp)
    import event_pb2

    return event_pb2


def read_events(run_dir, event_pb2):
    files = glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))
    if len(files) != 1:
        raise SystemExit(f"expected one event file in {run_dir}, found {len(files)}")
    with open(files[0], "rb") as f:
        data = f.read()
    at = 0
    while at < len(data):
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        if masked(header) != length_crc:
            raise SystemExit(f"bad length crc at offset {at}")
        body = data[at + 12:at + 12 + length]
        (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        if len(body) != length or masked(body) != body_crc:
            raise SystemExit(f"bad data crc at offset {at}")
        at += 16 + length
        event = event_pb2.Event()
        event.ParseFromString(body)
        if event.wall_time <= 0:
            raise SystemExit("an event without a wall time")
        if event.WhichOneof("what") == "file_version":
            print(f"tensorboard file_version {event.file_version}")
        for value in event.summary.value:
            print(f"tensorboard {event.step} {value.tag} {value.simple_value:.6g}")


def read_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def files_under(path):
    out = {}
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            out[os.path.relpath(full, path)] = full
    return out


def check_uri(uri, path):
    if not uri.startswith("file://") or urllib.parse.unquote(uri[len("file://"):]) != os.path.abspath(path):
        raise SystemExit(f"{uri} does not name {path}")


def read_store(root):
    root = os.path.abspath(root)
    experiments = sorted(
        (d for d in os.listdir(root)
         if os.path.isdir(os.path.join(root, d)) and d not in (".trash", "models")),
        key=int)
    for exp_id in experiments:
        exp_dir = os.path.join(root, exp_id)
        meta = read_yaml(os.path.join(exp_dir, "meta.yaml"))
        if str(meta["experiment_id"]) != exp_id or meta["lifecycle_stage"] != "active":
            raise SystemExit(f"experiment {exp_id}: bad meta.yaml {meta}")
        check_uri(meta["artifact_location"], exp_dir)
        assert isinstance(meta["creation_time"], int) and isinstance(meta["last_update_time"], int)
        print(f"mlflow experiment {exp_id} {meta['name']}")
        for run_id in sorted(os.listdir(exp_dir)):
            run_dir = os.path.join(exp_dir, run_id)
            if not os.path.isdir(run_dir) or run_id in ("tags", "datasets", "traces"):
                continue
            read_run(exp_id, run_id, run_dir)


def read_run(exp_id, run_id, run_dir):
    info = read_yaml(os.path.join(run_dir, "meta.yaml"))
    if info["run_id"] != run_id or info["run_uuid"] != run_id or str(info["experiment_id"]) != exp_id:
        raise SystemExit(f"run {run_id}: bad meta.yaml {info}")
    check_uri(info["artifact_uri"], os.path.join(run_dir, "artifacts"))
    assert info["lifecycle_stage"] == "active" and info["tags"] == [] and isinstance(info["start_time"], int)
    status = RUN_STATUS[info["status"]]
    if (info["end_time"] is None) != (status == "RUNNING"):
        raise SystemExit(f"run {run_id}: end_time {info['end_time']} with status {status}")
    tags = {k: open(p).read() for k, p in files_under(os.path.join(run_dir, "tags")).items()}
    params = files_under(os.path.join(run_dir, "params"))
    name = info["run_name"] or tags.get("mlflow.runName")
    print(f"mlflow run {name} {status} params={len(params)} mode={tags.get('mode')}")
    for key, path in sorted(files_under(os.path.join(run_dir, "metrics")).items()):
        points = []
        for line in open(path):
            parts = line.strip().split(" ")
            if len(parts) not in (2, 3):
                raise SystemExit(f"metric {key}: malformed line {line!r}")
            points.append((int(parts[2]) if len(parts) == 3 else 0, int(parts[0]), float(parts[1])))
        step, _, value = max(points)
        print(f"mlflow metric {key} {value!r} step={step} points={len(points)}")


def main():
    run_dir, root = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        read_events(run_dir, event_module(tmp))
    read_store(root)


if __name__ == "__main__":
    main()
