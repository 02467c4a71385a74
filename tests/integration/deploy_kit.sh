#!/usr/bin/env bash
# deploy_kit.sh - the deployment kit under deploy/ is valid and says what
# the code does:
#   - systemd-analyze verify accepts the unit (with ExecStart pointed at the
#     binary built here), and the unit has the hardening the README promises;
#   - every Kubernetes manifest parses as YAML; the Deployment probes
#     /healthz and /readyz, keeps --state-dir on the PVC, and takes its
#     secrets as mounted files only;
#   - the RBAC rules grant exactly the (API group, resource, verb) triples
#     that runtime/act_k8s*.c request, derived from their path segments and
#     methods: nothing missing, nothing extra; cluster-wide calls are in a
#     ClusterRole bound cluster-wide;
#   - amtool accepts the Alertmanager receiver snippet;
#   - the Containerfile's image is FROM scratch with the static binary.
. "$(dirname "$0")/lib.bash"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (scripts/deps.sh test)"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (scripts/deps.sh test)"

# 1. The systemd unit.
UNIT=deploy/systemd/healer.service
bin=$PWD/bin/healer-static
[ -x "$bin" ] || bin=$PWD/${HEALER:-bin/healer}
mkdir -p "$TMP/unit"
sed "s#/usr/local/bin/healer#$bin#g" "$UNIT" >"$TMP/unit/healer.service"
systemd-analyze verify "$TMP/unit/healer.service" >"$TMP/verify.log" 2>&1 ||
  fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
[ ! -s "$TMP/verify.log" ] || fail "systemd-analyze verify warns: $(cat "$TMP/verify.log")"
for want in DynamicUser=yes StateDirectory=healer ProtectSystem=strict NoNewPrivileges=yes \
  'LoadCredential=tls.key:' 'HEALER_STATE_DIR=%S/healer' 'HEALER_TLS_KEY_FILE=%d/tls.key' \
  'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qF -- "$want" "$UNIT" || fail "$UNIT lacks $want"
done

# 2. Manifests, 3. RBAC against the code.
python3 - deploy/kubernetes runtime <<'PY' || fail "manifests"
import glob, os, re, sys, yaml

kdir, rdir = sys.argv[1], sys.argv[2]
docs = []
for path in sorted(glob.glob(os.path.join(kdir, "*.yaml"))):
    with open(path) as f:
        try:
            for d in yaml.safe_load_all(f):
                if d is not None:
                    docs.append((path, d))
        except yaml.YAMLError as e:
            sys.exit("%s: %s" % (path, e))
for path, d in docs:
    for k in ("apiVersion", "kind"):
        assert k in d, (path, "no " + k)
kinds = {}
for path, d in docs:
    kinds.setdefault(d["kind"], []).append(d)
for k in ("Namespace", "ServiceAccount", "PersistentVolumeClaim", "Service", "Deployment",
          "Secret", "Kustomization"):
    assert k in kinds, "no " + k
kust = kinds["Kustomization"][0]
listed = set(kust["resources"])
files = {os.path.basename(p) for p in glob.glob(os.path.join(kdir, "*.yaml"))} - {"kustomization.yaml"}
assert listed == files, ("kustomization.yaml resources", sorted(listed), sorted(files))

dep = kinds["Deployment"][0]
pod = dep["spec"]["template"]["spec"]
assert dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"]["type"] == "Recreate", "one writer per journal"
c = pod["containers"][0]
assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", c["livenessProbe"]
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", c["readinessProbe"]
env = {e["name"]: e for e in c["env"]}
for e in c["env"]:
    assert "valueFrom" not in e, ("a secret in the environment", e)
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
pvc = kinds["PersistentVolumeClaim"][0]["metadata"]["name"]
state = [n for n, v in vols.items() if v.get("persistentVolumeClaim", {}).get("claimName") == pvc]
assert state and mounts[state[0]] == env["HEALER_STATE_DIR"]["value"], "state dir not on the PVC"
secret_dirs = [mounts[n] for n, v in vols.items() if "secret" in v]
for name, e in env.items():
    if name.endswith("_FILE"):
        assert any(e["value"].startswith(d + "/") for d in secret_dirs), ("not a mounted secret", e)
secret_names = {s["metadata"]["name"] for s in kinds["Secret"]}
assert {v["secret"]["secretName"] for v in vols.values() if "secret" in v} <= secret_names
assert pod["serviceAccountName"] == kinds["ServiceAccount"][0]["metadata"]["name"]
sc = c["securityContext"]
assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"], sc
assert kinds["Service"][0]["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()

# What the code calls: each k8s_request(run, ..., HTTPC_M, segs, N, ...) with
# the nearest `segs[] = {...}` above it.
verbs = {"HTTPC_POST": "create", "HTTPC_PATCH": "patch", "HTTPC_DELETE": "delete",
         "HTTPC_PUT": "update"}
want, cluster_wide = set(), set()
srcs = sorted(glob.glob(os.path.join(rdir, "act_k8s_*.c")))
assert srcs, "no runtime/act_k8s_*.c"
for src in srcs:
    text = open(src).read()
    calls = list(re.finditer(r"k8s_request\(\s*run\s*,[^,]+,\s*(HTTPC_[A-Z]+)\s*,\s*segs\s*,\s*(\d+)", text))
    assert calls, src + ": no k8s_request call found"
    for m in calls:
        defs = list(re.finditer(r"segs\[\]\s*=\s*\{([^}]*)\}", text[:m.start()]))
        assert defs, (src, "no segs before", m.group(0))
        segs = [s.strip() for s in defs[-1].group(1).split(",")]
        assert len(segs) == int(m.group(2)), (src, segs, m.group(0))
        lit = lambda s: s[1:-1] if s.startswith('"') else None
        if lit(segs[0]) == "api":
            group, rest = "", segs[2:]
        else:
            assert lit(segs[0]) == "apis", (src, segs)
            group, rest = lit(segs[1]), segs[3:]
        namespaced = lit(rest[0]) == "namespaces"
        if namespaced:
            rest = rest[2:]
        res = lit(rest[0])
        named = len(rest) >= 2
        if len(rest) == 3:
            res += "/" + lit(rest[2])
        m_ = m.group(1)
        verb = ("get" if named else "list") if m_ == "HTTPC_GET" else verbs[m_]
        want.add((group, res, verb))
        if not namespaced:
            cluster_wide.add((group, res, verb))

granted, granted_cluster = set(), set()
bound_cluster = {b["roleRef"]["name"] for b in kinds.get("ClusterRoleBinding", [])}
for kind in ("ClusterRole", "Role"):
    for r in kinds.get(kind, []):
        for rule in r["rules"]:
            for g in rule["apiGroups"]:
                for res in rule["resources"]:
                    for v in rule["verbs"]:
                        assert "*" not in (g, res, v), ("wildcard", r["metadata"]["name"], rule)
                        granted.add((g, res, v))
                        if kind == "ClusterRole" and r["metadata"]["name"] in bound_cluster:
                            granted_cluster.add((g, res, v))
fmt = lambda s: ", ".join("%s/%s %s" % t for t in sorted(s))
assert want == granted, "RBAC differs from the code: missing [%s], extra [%s]" % (
    fmt(want - granted), fmt(granted - want))
assert cluster_wide <= granted_cluster, "cluster-wide calls without a ClusterRoleBinding: " + fmt(cluster_wide - granted_cluster)
print("rbac:", fmt(want))
PY

# 4. The Alertmanager snippet, as amtool reads it (with the files it names).
if command -v amtool >/dev/null; then
  mkdir -p "$TMP/am/etc/alertmanager/secrets"
  sed "s#/etc/alertmanager/#$TMP/am/etc/alertmanager/#g" deploy/alertmanager/receiver.yml >"$TMP/am/alertmanager.yml"
  : >"$TMP/am/etc/alertmanager/secrets/healer-webhook-token"
  cp tests/fakes/mkcerts.sh "$TMP/am/" && bash "$TMP/am/mkcerts.sh" "$TMP/am/pki" >/dev/null 2>&1 &&
    cp "$TMP/am/pki/ca.crt" "$TMP/am/etc/alertmanager/secrets/healer-ca.crt" || fail "mkcerts.sh"
  amtool check-config "$TMP/am/alertmanager.yml" >"$TMP/amtool.log" 2>&1 ||
    fail "amtool check-config: $(cat "$TMP/amtool.log")"
else
  fail "amtool is missing (prometheus-alertmanager)"
fi

# 5. The image.
CF=deploy/container/Containerfile
[ "$(grep -E '^FROM ' "$CF" | tail -n 1 | awk '{print $2}')" = scratch ] || fail "$CF: the last stage is not FROM scratch"
grep -q '^COPY bin/healer-static /healer' "$CF" || fail "$CF does not copy bin/healer-static"
grep -q '^ENTRYPOINT \["/healer"\]' "$CF" || fail "$CF: no ENTRYPOINT /healer"

echo "PASS $TEST_NAME"
