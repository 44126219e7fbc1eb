#!/usr/bin/env python3
"""Drive `juju` (a symlink to troupe) the way a jubilant integration test does.

Stdlib only. Every call is one subprocess with argv as a list, stdout and
stderr captured apart, stdin closed (a prompt would fail the call), and
`--model <ref>` inserted right after the verb for model-scoped commands,
exactly as jubilant builds its argv (docs: shared/spec/cli-contract.md).

Usage: jubilant_like.py <repo-root> <work-dir>. Exit 0 when every check
passed; on failure the failing check and the command output go to stderr.
"""

import json
import os
import secrets
import stat
import subprocess
import sys
import time
import uuid
import zipfile

REPO, WORK = sys.argv[1], sys.argv[2]
CONTROLLER = "local"


class CLIError(Exception):
    pass


def cli(*args, model=None, check=True, timeout=300, stdin=None):
    argv = ["juju", args[0]]
    if model is not None:
        argv += ["--model", model]
    argv += list(args[1:])
    if stdin is None:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    else:
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise CLIError(f"{argv} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def pack(charm_dir, out):
    """Zip a charm directory as charmcraft would: files at the root, modes kept."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for root, dirs, files in os.walk(charm_dir):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(root, f)
                rel = os.path.relpath(full, charm_dir)
                info = zipfile.ZipInfo(rel)
                info.external_attr = (stat.S_IMODE(os.stat(full).st_mode) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as fh:
                    z.writestr(info, fh.read())
        z.writestr("manifest.yaml", "bases:\n- name: ubuntu\n  channel: '24.04'\n  architectures: [amd64]\n")
    return out


def status(model):
    return json.loads(cli("status", "--format", "json", model=model).stdout)


def units_of(st, app):
    a = st["applications"][app]
    return a.get("units") or {}


def all_active(st, *apps):
    for app in apps:
        if app not in st["applications"]:
            return False
        a = st["applications"][app]
        if a.get("application-status", {}).get("current") != "active":
            return False
        for u in units_of(st, app).values():
            if u.get("workload-status", {}).get("current") != "active":
                return False
    return True


def all_agents_idle(st, *apps):
    for app in apps:
        if app not in st["applications"]:
            return False
        for u in units_of(st, app).values():
            if u.get("juju-status", {}).get("current") != "idle":
                return False
    return True


def any_error(st, *apps):
    for app in apps:
        a = st["applications"].get(app)
        if a is None:
            continue
        if a.get("application-status", {}).get("current") == "error":
            return True
        for u in units_of(st, app).values():
            if u.get("workload-status", {}).get("current") == "error":
                return True
    return False


def wait(model, ready, error=None, timeout=180, delay=1.0, successes=3):
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        st = status(model)
        if error is not None and error(st):
            fail("wait: error condition: " + json.dumps(st["applications"]))
        if ready(st):
            count += 1
            if count >= successes:
                return st
        else:
            count = 0
        time.sleep(delay)
    fail("wait: timed out; last status: " + json.dumps(st["applications"]))


def check_status_shape(st):
    for key in ("model", "machines", "applications"):
        expect(key in st, f"status has no {key!r}")
    for key in ("name", "type", "controller", "cloud", "version"):
        expect(isinstance(st["model"].get(key), str), f"status.model.{key} is not a string")
    for name, a in st["applications"].items():
        for key, typ in (("charm", str), ("charm-origin", str), ("charm-name", str), ("charm-rev", int), ("exposed", bool)):
            expect(isinstance(a.get(key), typ), f"applications.{name}.{key} is {a.get(key)!r}, want {typ.__name__}")
        for key in ("relations", "units"):
            expect(a.get(key, {}) is not None, f"applications.{name}.{key} is null")


def main():
    # version: JSON --all and the plain line agree.
    v = json.loads(cli("version", "--format", "json", "--all").stdout)
    expect(isinstance(v.get("version"), str), "version --format json has no version string")
    plain = cli("version").stdout.strip()
    expect(plain == v["version"], f"plain version {plain!r} != JSON version {v['version']!r}")

    # temp_model: add without switching.
    before = json.loads(cli("models", "--format", "json").stdout).get("current-model")
    name = "jubilant-" + secrets.token_hex(4)
    cli("add-model", "--no-switch", name)
    after = json.loads(cli("models", "--format", "json").stdout).get("current-model")
    expect(before == after, f"add-model --no-switch changed the current model: {before!r} -> {after!r}")
    model = name

    # show-model: every reference form names the same model.
    uuids = set()
    for ref in (name, "admin/" + name, CONTROLLER + ":admin/" + name, CONTROLLER + ":" + name):
        doc = json.loads(cli("show-model", "--format", "json", ref).stdout)
        expect(list(doc) == [name], f"show-model {ref}: keys {list(doc)}")
        info = doc[name]
        expect(info["name"] == "admin/" + name, f"show-model name {info['name']!r}")
        expect(info["short-name"] == name and info["model-type"] == "iaas" and info["is-controller"] is False,
               f"show-model fields: {info}")
        uuid.UUID(info["model-uuid"])
        uuid.UUID(info["controller-uuid"])
        expect(info["life"] == "alive" and info.get("status", {}).get("current") == "available", f"show-model life/status: {info}")
        uuids.add(info["model-uuid"])
    expect(len(uuids) == 1, f"show-model forms gave different uuids: {uuids}")

    # deploy two packed charms and integrate them.
    store = pack(os.path.join(REPO, "testcharms", "kvstore"), os.path.join(WORK, "kvstore.charm"))
    client = pack(os.path.join(REPO, "testcharms", "kvclient"), os.path.join(WORK, "kvclient.charm"))
    actioner = pack(os.path.join(REPO, "testcharms", "actioner"), os.path.join(WORK, "actioner.charm"))
    cli("deploy", store, model=model)
    st = status(model)
    expect("kvstore/0" in units_of(st, "kvstore"), "kvstore/0 not in status right after deploy")
    cli("deploy", client, "kvclient", "--config", "flavour=spicy", model=model)
    cli("integrate", "kvstore", "kvclient", model=model)
    st = wait(model, lambda s: all_active(s, "kvstore", "kvclient") and all_agents_idle(s, "kvstore", "kvclient"),
              error=lambda s: any_error(s, "kvstore", "kvclient"))
    check_status_shape(st)
    expect(st["applications"]["kvstore"]["charm"] == "local:kvstore-0", f"charm url {st['applications']['kvstore']['charm']}")
    rels = st["applications"]["kvclient"].get("relations", {})
    expect(any(r.get("related-application") == "kvstore" for rs in rels.values() for r in rs), f"kvclient relations: {rels}")

    # show-unit with relation data.
    su = json.loads(cli("show-unit", "kvclient/0", "--format", "json", model=model).stdout)
    u = su["kvclient/0"]
    expect(u["charm"] == "local:kvclient-0" and isinstance(u["leader"], bool) and u["opened-ports"] == [], f"show-unit: {u}")
    ri = u.get("relation-info") or []
    expect(len(ri) == 1, f"show-unit relation-info: {ri}")
    expect(isinstance(ri[0]["relation-id"], int) and ri[0]["endpoint"] and ri[0]["related-endpoint"], f"relation-info: {ri[0]}")
    expect(isinstance(ri[0]["application-data"], dict), "application-data is not a map")
    expect("kvstore/0" in (ri[0].get("related-units") or {}), f"related-units: {ri[0].get('related-units')}")

    # config: read, set, reset; trust.
    cfg = json.loads(cli("config", "--format", "json", "kvclient", model=model).stdout)
    expect(cfg["settings"]["flavour"]["value"] == "spicy", f"config flavour: {cfg['settings']['flavour']}")
    cli("config", "kvclient", "flavour=mild", model=model)
    cfg = json.loads(cli("config", "--format", "json", "kvclient", model=model).stdout)
    expect(cfg["settings"]["flavour"]["value"] == "mild", "config set did not read back")
    cli("config", "kvclient", "--reset", "flavour", model=model)
    cli("trust", "kvclient", "--scope", "cluster", model=model)
    cfg = json.loads(cli("config", "--format", "json", "kvclient", model=model).stdout)
    expect(cfg["application-config"]["trust"]["value"] is True, "trust did not set application-config.trust")
    cli("trust", "kvclient", "--remove", model=model)

    # actions and exec.
    cli("deploy", actioner, model=model)
    wait(model, lambda s: all_agents_idle(s, "actioner") and units_of(s, "actioner")
         and all(x.get("workload-status", {}).get("current") not in ("waiting", "maintenance")
                 for x in units_of(s, "actioner").values()))
    params = os.path.join(WORK, "params.yaml")
    with open(params, "w") as fh:
        fh.write("name: jubilant\ncount: 2\n")
    out = json.loads(cli("run", "--format", "json", "actioner/leader", "greet", "--wait", "60.0s", "--params", params, model=model).stdout)
    task = next(iter(out.values()))
    expect(isinstance(task["id"], str) and task["status"] == "completed", f"run task: {task}")
    expect(task.get("results", {}).get("return-code", 0) == 0, f"run return code: {task}")
    p = cli("run", "--format", "json", "actioner/42", "greet", model=model, check=False)
    expect(p.returncode == 0 and p.stdout.strip() == "", f"run on a missing unit: exit {p.returncode} stdout {p.stdout!r}")
    out = json.loads(cli("exec", "--format", "json", "--unit", "kvstore/0", "--wait", "60s", "--", "echo", "bar", "baz", model=model).stdout)
    task = next(iter(out.values()))
    expect(task["results"]["stdout"] == "bar baz\n" and task["results"].get("return-code", 0) == 0, f"exec: {task}")
    p = cli("exec", "--format", "json", "--unit", "kvstore/0", "--", "sleep x", model=model, check=False)
    expect(p.returncode != 0 and "task failed" in p.stderr, f"failed exec: exit {p.returncode} stderr {p.stderr!r}")

    # secrets, as jubilant's add_secret/grant_secret/secrets/show_secret
    # build them: content in a temp YAML file, the URI on stdout.
    expect(json.loads(cli("secrets", "--format", "json", model=model).stdout) == {}, "secrets of a new model")
    content = os.path.join(WORK, "secret.yaml")
    with open(content, "w") as fh:
        fh.write("username: jubilant\npassword: s3cr3t\n")
    uri = cli("add-secret", "dbcreds", "--info", "database credentials", "--file", content, model=model).stdout.strip()
    os.remove(content)  # jubilant deletes the file right after the call
    expect(uri.startswith("secret:") and len(uri) == len("secret:") + 20, f"add-secret printed {uri!r}")
    sid = uri[len("secret:"):]
    listed = json.loads(cli("secrets", "--format", "json", model=model).stdout)
    expect(list(listed) == [sid], f"secrets lists {list(listed)}, want [{sid}]")
    expect(listed[sid]["owner"] == "<model>" and listed[sid]["name"] == "dbcreds" and listed[sid]["revision"] == 1
           and "content" not in listed[sid], f"secrets entry: {listed[sid]}")
    cli("grant-secret", "dbcreds", "kvclient", model=model)
    shown = json.loads(cli("show-secret", uri, "--format", "json", "--reveal", model=model).stdout)
    expect(shown[sid]["content"]["Data"] == {"username": "jubilant", "password": "s3cr3t"}, f"show-secret --reveal: {shown}")
    expect(any(a["target"] == "application-kvclient" for a in shown[sid].get("access", [])), f"show-secret access: {shown[sid]}")
    # The granted application's unit reads it in its hook context.
    out = json.loads(cli("exec", "--format", "json", "--unit", "kvclient/0", "--wait", "60s", "--", "secret-get", uri, "password", model=model).stdout)
    task = next(iter(out.values()))
    expect(task["status"] == "completed" and task["results"].get("return-code", 0) == 0 and task["results"].get("stdout") == "s3cr3t\n",
           f"secret-get in kvclient/0: {task}")
    # An application it was not granted to cannot.
    p = cli("exec", "--format", "json", "--unit", "kvstore/0", "--", "secret-get", uri, "password", model=model, check=False)
    task = next(iter(json.loads(p.stdout).values()))
    expect(p.returncode != 0 and task["results"].get("return-code", 0) != 0, f"secret-get in ungranted kvstore/0: exit {p.returncode} {task}")

    # model constraints and ssh keys.
    expect(json.loads(cli("model-constraints", "--format", "json", model=model).stdout) == {}, "constraints of a new model")
    cli("set-model-constraints", "mem=1G", "cores=4", model=model)
    got = json.loads(cli("model-constraints", "--format", "json", model=model).stdout)
    expect(got == {"mem": 1024, "cores": 4}, f"model-constraints: {got}")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp1YmlsYW50LXRlc3Qta2V5LWZvci10cm91cGUtMDEy jubilant@test"
    cli("add-ssh-key", key, model=model)
    cli("remove-ssh-key", key, model=model)

    # ssh and scp (local provider: the unit's host is this host).
    out = cli("ssh", "kvstore/0", "-i", "/nonexistent/key", "echo", "hi", model=model).stdout
    expect(out == "hi\n", f"ssh echo: {out!r}")
    out = cli("ssh", "kvstore/0", "cat", model=model, stdin="from stdin").stdout
    expect(out == "from stdin", f"ssh cat with stdin: {out!r}")
    p = cli("ssh", "kvstore/0", "exit", "3", model=model, check=False)
    expect(p.returncode == 3, f"ssh exit code: {p.returncode}")
    src = os.path.join(WORK, "scp-src.txt")
    with open(src, "w") as fh:
        fh.write("copied")
    dst = os.path.join(WORK, "scp-dst.txt")
    cli("scp", "--", "-q", src, "kvstore/0:" + dst, model=model)
    with open(dst) as fh:
        expect(fh.read() == "copied", "scp did not copy")

    # debug-log prints and exits.
    cli("debug-log", "--limit", "10", model=model, timeout=60)

    # temp_model teardown.
    t0 = time.monotonic()
    cli("destroy-model", name, "--no-prompt", "--destroy-storage", "--force", "--timeout", "5m", timeout=600)
    took = time.monotonic() - t0
    names = [m["short-name"] for m in json.loads(cli("models", "--format", "json").stdout)["models"]]
    expect(name not in names, f"model {name} still listed after destroy-model: {names}")
    p = cli("show-model", "--format", "json", name, check=False)
    expect(p.returncode != 0 and "not found" in p.stderr, f"show-model of a destroyed model: {p.returncode} {p.stderr!r}")
    print(json.dumps({"ok": True, "destroy-model-seconds": round(took, 2)}))


if __name__ == "__main__":
    try:
        main()
    except CLIError as e:
        fail(str(e))
