"""The Helm chart (packaging/helm/lms) and the image layout (packaging/Dockerfile).

Helm cannot be installed on these machines (Debian 12 does not package it; nothing is downloaded),
so tests/helm/render stands in for `helm template`: it renders with Helm's own engine (Go's
text/template and Sprig, from Debian's packages) and checks the values against
values.schema.json as `helm install` does. The rendered objects are then checked for what
Kubernetes requires of them, and run: the container start commands the chart renders are executed
with the chart's arguments and environment, as user 10001, with a `meson install` of this build
mounted at /app and the secrets laid out where the chart mounts them."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from lmstest import BUILD_DIR, CLI_BIN, DATABASE, PASSWORD, USER, TargetTestCase, free_port, psql, wait_for_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(REPO, "packaging", "helm", "lms")
ALL_VALUES = os.path.join(REPO, "tests", "helm", "all-values.yaml")
YAMLLINT_CONFIG = os.path.join(REPO, "packaging", "helm", "yamllint.yaml")
RENDERER = os.path.join(os.path.abspath(BUILD_DIR), "helm", "lms-helm-render")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def build_renderer():
    """Builds the renderer once per build directory (Go's cache keeps later builds instant)."""
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
               GOCACHE=os.path.join(os.path.dirname(RENDERER), "gocache"))
    subprocess.run(["go", "build", "-o", RENDERER, "./tests/helm/render"], cwd=REPO, env=env, check=True,
                   capture_output=True)


def render(*args, check=True):
    r = subprocess.run([RENDERER, *args, CHART], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"rendering failed: {r.stderr}")
    return r


def objects(*value_files, release="lms", namespace="default"):
    args = ["--json", "--release", release, "--namespace", namespace]
    for f in value_files:
        args += ["-f", f]
    return json.loads(render(*args).stdout)


def free_form():
    """Values the schema takes as whole objects (podSecurityContext, resources, ...)."""
    with open(os.path.join(CHART, "values.schema.json")) as f:
        schema = json.load(f)
    out = set()

    def walk(node, path):
        if "properties" in node:
            for k, v in node["properties"].items():
                walk(v, path + (k,))
        elif node.get("type") == "object":
            out.add(".".join(path))
    walk(schema, ())
    return out


def leaves(tree, path=(), whole=None):
    """Every value's dotted path, down to scalars, lists, and objects the schema takes whole."""
    whole = free_form() if whole is None else whole
    if isinstance(tree, dict) and tree and ".".join(path) not in whole:
        out = {}
        for k, v in tree.items():
            out.update(leaves(v, path + (k,), whole))
        return out
    return {".".join(path): tree}


def schema_leaves(schema, path=()):
    """The dotted paths the schema describes down to its leaves, with their defaults."""
    if "properties" in schema:
        out = {}
        for k, v in schema["properties"].items():
            out.update(schema_leaves(v, path + (k,)))
        return out
    return {".".join(path): schema.get("default", "(no default)")}


def find(objs, kind, name=None, component=None):
    for o in objs:
        labels = o["metadata"].get("labels", {})
        if o["kind"] == kind and (name is None or o["metadata"]["name"] == name) and \
                (component is None or labels.get("app.kubernetes.io/component") == component):
            return o
    raise AssertionError(f"no {kind} {name or component} rendered")


def container(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0]


class ChartRendering(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build_renderer()

    def check_kubernetes_rules(self, objs):
        """What the API server would refuse, and references that would silently not match."""
        names = set()
        for o in objs:
            for field in ("apiVersion", "kind", "metadata"):
                self.assertIn(field, o)
            meta = o["metadata"]
            self.assertRegex(meta["name"], DNS_LABEL)
            self.assertLessEqual(len(meta["name"]), 63)
            self.assertNotIn((o["kind"], meta["name"]), names, "two objects of one kind and name")
            names.add((o["kind"], meta["name"]))
            for k, v in meta.get("labels", {}).items():
                self.assertIsInstance(v, str, f"label {k} must be a string")
                self.assertLessEqual(len(v), 63)
        pods = {}
        for d in (o for o in objs if o["kind"] == "Deployment"):
            spec = d["spec"]
            self.assertIsInstance(spec["replicas"], int)
            template = spec["template"]
            labels = template["metadata"]["labels"]
            for k, v in spec["selector"]["matchLabels"].items():
                self.assertEqual(labels.get(k), v, f"{d['metadata']['name']}: selector does not match its pods")
            pod = template["spec"]
            volumes = {v["name"] for v in pod.get("volumes", [])}
            for c in pod["containers"]:
                self.assertTrue(c["name"] and c["image"])
                ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
                for name, number in ports.items():
                    self.assertLessEqual(len(name), 15)
                    self.assertTrue(1 <= number <= 65535)
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if probe in c:
                        self.assertIn(c[probe]["httpGet"]["port"], ports, f"{probe} names an unknown port")
                for m in c.get("volumeMounts", []):
                    self.assertIn(m["name"], volumes, f"mount {m['name']} has no volume")
                    self.assertTrue(m["mountPath"].startswith("/"))
                for e in c.get("env", []):
                    self.assertRegex(e["name"], r"^[A-Za-z_][A-Za-z0-9_]*$")
                self.assertTrue(all(isinstance(a, str) for a in c.get("args", [])))
            sa = pod.get("serviceAccountName")
            created = [o for o in objs if o["kind"] == "ServiceAccount"]
            if created:
                self.assertIn(sa, [o["metadata"]["name"] for o in created])
            pods[d["metadata"]["name"]] = (labels, {p["name"] for c in pod["containers"] for p in c.get("ports", [])})
        services = {}
        for s in (o for o in objs if o["kind"] == "Service"):
            selected = [ports for labels, ports in pods.values()
                        if all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]
            self.assertEqual(len(selected), 1, f"Service {s['metadata']['name']} must select one Deployment's pods")
            for p in s["spec"]["ports"]:
                self.assertTrue(1 <= p["port"] <= 65535)
                self.assertIn(p["targetPort"], selected[0])
            services[s["metadata"]["name"]] = s
        for b in (o for o in objs if o["kind"] == "PodDisruptionBudget"):
            self.assertTrue(any(all(labels.get(k) == v for k, v in b["spec"]["selector"]["matchLabels"].items())
                                for labels, _ in pods.values()))
        for m in (o for o in objs if o["kind"] == "ServiceMonitor"):
            selected = [s for s in services.values()
                        if all(s["metadata"]["labels"].get(k) == v
                               for k, v in m["spec"]["selector"]["matchLabels"].items())]
            self.assertEqual(len(selected), 1, f"ServiceMonitor {m['metadata']['name']} must select one Service")
            for e in m["spec"]["endpoints"]:
                self.assertIn(e["port"], [p["name"] for p in selected[0]["spec"]["ports"]])

    def test_default_values_render_what_the_documentation_describes(self):
        objs = objects()
        self.check_kubernetes_rules(objs)
        self.assertEqual(sorted((o["kind"], o["metadata"]["name"]) for o in objs),
                         [("Deployment", "lms"), ("Deployment", "lms-orchestrator"),
                          ("PodDisruptionBudget", "lms"), ("Service", "lms"), ("Service", "lms-headless"),
                          ("Service", "lms-orchestrator"), ("ServiceAccount", "lms")])
        proxies = find(objs, "Deployment", "lms")
        self.assertEqual(proxies["spec"]["replicas"], 3)
        lms = container(proxies)
        self.assertEqual(lms["command"], ["/app/bin/lms"])
        self.assertIn("--listen=0.0.0.0:9043", lms["args"])
        self.assertIn("--http-listen=0.0.0.0:9044", lms["args"])
        self.assertIn("--shadow-mode=none", lms["args"])
        self.assertEqual(find(objs, "Service", "lms")["spec"]["type"], "ClusterIP")
        self.assertEqual([p["port"] for p in find(objs, "Service", "lms")["spec"]["ports"]], [9043, 9044])
        self.assertEqual([p["port"] for p in find(objs, "Service", "lms-orchestrator")["spec"]["ports"]], [4200, 4201])
        orch = container(find(objs, "Deployment", "lms-orchestrator"))
        self.assertIn("--lms-dns=lms-headless.default.svc.cluster.local", orch["args"])
        self.assertIn("--lms-port=9044", orch["args"])
        headless = find(objs, "Service", "lms-headless")["spec"]
        self.assertEqual((headless["clusterIP"], headless["publishNotReadyAddresses"]), ("None", True))
        self.assertEqual(proxies["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 35)
        self.assertFalse([o for o in objs if o["kind"] in ("Role", "ClusterRole", "RoleBinding")])

    def test_other_release_names_prefix_the_resources(self):
        names = {o["metadata"]["name"] for o in objects(release="shop")}
        self.assertIn("shop-lms", names)
        self.assertIn("shop-lms-orchestrator", names)
        orch = container(find(objects(release="shop", namespace="retail"), "Deployment", "shop-lms-orchestrator"))
        self.assertIn("--lms-dns=shop-lms-headless.retail.svc.cluster.local", orch["args"])

    def test_every_option_renders_and_takes_effect(self):
        with open(ALL_VALUES) as f:
            text = f.read()
        defaults = leaves(json.loads(render("--show-values").stdout))
        chosen = leaves(json.loads(render("--show-values", "-f", ALL_VALUES).stdout))
        # (podDisruptionBudget.enabled: false is rendered by the next test.)
        unchanged = [k for k in defaults if chosen.get(k) == defaults[k] and k != "lms.podDisruptionBudget.enabled"]
        self.assertEqual(unchanged, [], "tests/helm/all-values.yaml leaves these values at their defaults")

        objs = objects(ALL_VALUES, release="shop", namespace="retail")
        self.check_kubernetes_rules(objs)
        proxies = find(objs, "Deployment", "shop-lms")
        pod = proxies["spec"]["template"]["spec"]
        lms = container(proxies)
        self.assertEqual(proxies["spec"]["replicas"], 5)
        self.assertEqual(lms["image"], "registry.example.test/lms:0.1.0-rc1")
        self.assertEqual(lms["imagePullPolicy"], "Always")
        for arg in ("--source-dialect=mysql", "--shadow-mode=strict-sync", "--listen=[::]:3306",
                    "--http-listen=[::]:9100", "--log-level=debug", "--shutdown-grace=60000",
                    "--allow-tls-mode-disable", "--control-tls-ca=/app/control-tls/ca.crt", "--max-connections=2000"):
            self.assertIn(arg, lms["args"])
        self.assertNotIn("--allow-insecure-control", lms["args"])
        self.assertEqual(lms["readinessProbe"]["httpGet"]["scheme"], "HTTPS")
        self.assertIn({"name": "LMS_SSL_CERT", "value": "/app/certs/lms-tls.crt"}, lms["env"])
        self.assertIn({"name": "LMS_READ_CONFIG_FILE", "value": "/app/configs/config.json"}, lms["env"])
        self.assertEqual({v["name"] for v in pod["volumes"]}, {"state", "config", "control-tls", "lms-tls"})
        self.assertEqual(pod["serviceAccountName"], "shop-sa")
        self.assertEqual(pod["imagePullSecrets"], [{"name": "registry-login"}])
        self.assertEqual(pod["securityContext"]["runAsUser"], 20002)
        self.assertEqual(pod["nodeSelector"], {"example.test/pool": "proxies"})
        self.assertEqual(pod["tolerations"][0]["value"], "lms")
        self.assertIn("podAntiAffinity", pod["affinity"])
        self.assertEqual(pod["terminationGracePeriodSeconds"], 75)
        self.assertEqual(lms["lifecycle"]["preStop"]["exec"]["command"], ["/bin/sleep", "10"])
        self.assertEqual(lms["resources"]["limits"]["memory"], "1Gi")
        self.assertEqual(proxies["spec"]["template"]["metadata"]["annotations"], {"example.test/scrape": "false"})
        self.assertEqual(find(objs, "Service", "shop-lms")["spec"]["type"], "LoadBalancer")
        self.assertEqual(find(objs, "PodDisruptionBudget")["spec"]["maxUnavailable"], 2)
        self.assertFalse([o for o in objs if o["kind"] == "ServiceAccount"])

        orch = container(find(objs, "Deployment", "shop-lms-orchestrator"))
        for arg in ("--lms-addresses=https://10.0.0.5:9100,https://10.0.0.6:9100", "--allow-origin=https://ops.example.test",
                    "--source-dialect=mysql", "--log-level=warn", "--listen=127.0.0.1:4300", "--replication-timeout=60s",
                    "--fence-source"):
            self.assertIn(arg, orch["args"])
        self.assertEqual(orch["livenessProbe"]["httpGet"]["scheme"], "HTTPS")
        self.assertIn({"name": "ORCH_READ_CONFIG_FILE", "value": "/app/configs/config.json"}, orch["env"])
        self.assertEqual(find(objs, "Service", "shop-lms-orchestrator")["spec"]["type"], "NodePort")

        monitors = [o for o in objs if o["kind"] == "ServiceMonitor"]
        self.assertEqual(len(monitors), 2)
        for m in monitors:
            self.assertEqual(m["metadata"]["namespace"], "retail")
            self.assertEqual(m["spec"]["namespaceSelector"], {"matchNames": ["retail"]})
            self.assertEqual(m["metadata"]["labels"]["release"], "prometheus")
            self.assertEqual(m["spec"]["endpoints"][0]["interval"], "15s")

    def test_https_to_the_proxies_follows_the_control_tls_secret(self):
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work)
        values = os.path.join(work, "values.yaml")
        with open(values, "w") as f:
            f.write("lms:\n  controlTLSSecretName: lms-control-tls\n  podDisruptionBudget:\n    enabled: false\n")
        objs = objects(values)
        orch = container(find(objs, "Deployment", "lms-orchestrator"))
        self.assertIn("--lms-dns=https://lms-headless.default.svc.cluster.local", orch["args"])
        self.assertFalse([o for o in objs if o["kind"] == "PodDisruptionBudget"])

    def test_wrong_values_fail_before_anything_renders(self):
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work)
        cases = {
            "lms:\n  replicaCount: 0\n": "lms.replicaCount",
            "lms:\n  shadowMode: asynch\n": "lms.shadowMode",
            "lms:\n  replicaCout: 3\n": "replicaCout",
            "lms:\n  service:\n    port: 70000\n": "lms.service.port",
            "orchestrator:\n  sourceDialect: oracle\n": "orchestrator.sourceDialect",
            "serviceMonitor:\n  interval: soon\n": "serviceMonitor.interval",
            "lms:\n  env:\n    - value: x\n": "name",
        }
        for text, mentioned in cases.items():
            path = os.path.join(work, "values.yaml")
            with open(path, "w") as f:
                f.write(text)
            r = render("-f", path, check=False)
            self.assertNotEqual(r.returncode, 0, text)
            self.assertIn("values don't meet the specifications", r.stderr)
            self.assertIn(mentioned, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_readme_values_yaml_and_schema_agree(self):
        defaults = leaves(json.loads(render("--show-values").stdout))
        with open(os.path.join(CHART, "values.schema.json")) as f:
            schema = schema_leaves(json.load(f))
        with open(os.path.join(CHART, "README.md")) as f:
            readme = {m.group(1): json.loads(m.group(2))
                      for m in re.finditer(r"^\| `([a-zA-Z.]+)` \| `(.*?)` \|", f.read(), re.M)}
        self.assertEqual(sorted(readme), sorted(defaults), "README.md's table and values.yaml list other values")
        self.assertEqual(sorted(schema), sorted(defaults), "values.schema.json and values.yaml describe other values")
        for key, value in defaults.items():
            self.assertEqual(readme[key], value, f"README.md gives another default for {key}")
            self.assertEqual(schema[key], value, f"values.schema.json gives another default for {key}")

    def test_the_chart_version_is_the_build_version(self):
        version = subprocess.run([os.path.join(BUILD_DIR, "core", "lms"), "--version"], capture_output=True,
                                 text=True).stdout.split()[-1]
        with open(os.path.join(CHART, "Chart.yaml")) as f:
            self.assertIn(f'appVersion: "{version}"', f.read())

    def test_yamllint_is_clean_on_the_chart_and_what_it_renders(self):
        work = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, work)
        files = [os.path.join(CHART, "values.yaml"), os.path.join(CHART, "Chart.yaml"), ALL_VALUES]
        for name, args in (("default.yaml", []), ("all.yaml", ["-f", ALL_VALUES])):
            path = os.path.join(work, name)
            with open(path, "w") as f:
                f.write(render(*args).stdout)
            files.append(path)
        r = subprocess.run(["yamllint", "--strict", "-c", YAMLLINT_CONFIG, *files], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_notes_say_what_is_missing(self):
        notes = render("--notes").stdout
        self.assertIn("ERROR: lms.sourceDialect is not set", notes)
        self.assertIn("kubectl port-forward --namespace default svc/lms-orchestrator 4200:4200", notes)
        notes = render("--notes", "-f", ALL_VALUES).stdout
        self.assertNotIn("ERROR", notes)
        self.assertIn("https://127.0.0.1:4300", notes)

    def test_the_runtime_image_has_every_library_the_binaries_need(self):
        with open(os.path.join(REPO, "packaging", "Dockerfile")) as f:
            stages = f.read().split("\nFROM ")
        runtime = set(re.findall(r"\b(lib[a-z0-9.+-]+|ca-certificates)\b", stages[-1].split("COPY")[0]))
        base = {"libc6", "libstdc++6", "libgcc-s1"}  # in debian:12-slim already
        binaries = [os.path.join(BUILD_DIR, p) for p in ("core/lms", "orchestrator/lms-orchestrator", "cli/lms-cli")]
        binaries += [os.path.join(BUILD_DIR, "plugins", f) for f in os.listdir(os.path.join(BUILD_DIR, "plugins"))
                     if f.endswith(".so")]
        needed = set()
        for b in binaries:
            dynamic = subprocess.run(["readelf", "-d", b], capture_output=True, text=True, check=True).stdout
            needed.update(re.findall(r"\(NEEDED\).*\[(.+?)\]", dynamic))
        packages = set()
        for lib in needed - {"liblms-control.so.0"}:
            if re.match(r"lib(asan|ubsan)|ld-linux", lib):
                continue  # the sanitized test build's runtime, not the image's
            path = subprocess.run(["sh", "-c", f"ldconfig -p | awk '$1 == \"{lib}\" {{print $NF; exit}}'"],
                                  capture_output=True, text=True).stdout.strip()
            # dpkg knows a file by the path its package ships it at: /lib or /usr/lib (merged /usr).
            real = os.path.realpath(path)
            for candidate in (path, real, real.replace("/usr/lib/", "/lib/", 1)):
                owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
                if owner.returncode == 0:
                    break
            self.assertEqual(owner.returncode, 0, f"no package owns {lib} ({path})")
            packages.add(owner.stdout.split(":")[0])
        self.assertEqual(packages - base - runtime, set(), "packages the runtime stage does not install")


class ImageStart(TargetTestCase):
    """The chart's start commands, run in the image's file layout."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_renderer()
        cls.work = tempfile.mkdtemp(prefix="lms-image-")
        os.chmod(cls.work, 0o755)
        stage = os.path.join(cls.work, "stage")
        subprocess.run(["meson", "install", "-C", BUILD_DIR, "--destdir", stage, "--no-rebuild", "--quiet"],
                       check=True, capture_output=True)
        prefix = json.loads(subprocess.run(["meson", "introspect", BUILD_DIR, "--buildoptions"], check=True,
                                           capture_output=True, text=True).stdout)
        prefix = next(o["value"] for o in prefix if o["name"] == "prefix")
        # What the Dockerfile does with --prefix=/app: the install tree is /app.
        cls.app = os.path.join(cls.work, "app")
        os.rename(stage + prefix, cls.app)
        for d in ("configs", "certs", "state"):
            os.makedirs(os.path.join(cls.app, d), exist_ok=True)
        os.chown(os.path.join(cls.app, "state"), 10001, 10001)
        # /app must exist to be mounted over (inside the test's own mount namespaces only).
        cls.made_app_dir = not os.path.exists("/app")
        if cls.made_app_dir:
            os.mkdir("/app")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        if cls.made_app_dir:
            os.rmdir("/app")
        super().tearDownClass()

    def secret(self, mount_path, files):
        """Lays a mounted secret's files out, readable by the pod's user (Kubernetes' 0644)."""
        directory = os.path.join(self.app, os.path.relpath(mount_path, "/app"))
        os.makedirs(directory, exist_ok=True)
        for name, content in files.items():
            path = os.path.join(directory, name)
            with open(path, "w") as f:
                f.write(content)
            os.chmod(path, 0o644)

    def run_container(self, c, hosts_file, uid):
        """The container's command and args, with its env (and PATH as the image sets it), as the
        pod's user, in a mount namespace where /app is the image's tree."""
        env = {"PATH": "/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        env.update({e["name"]: e["value"] for e in c.get("env", []) if "value" in e})
        for key in ("LMS_SANITIZED", "UBSAN_OPTIONS", "ASAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                env[key] = os.environ[key]
        log = open(os.path.join(self.work, c["name"] + ".log"), "w")
        script = ('app="$0"; hosts="$1"; uid="$2"; shift 2; mount --bind "$app" /app && '
                  'mount --bind "$hosts" /etc/hosts && '
                  'exec setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"')
        proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, self.app,
                                 hosts_file, str(uid), *c["command"], *c["args"]],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(), log.close()))
        return proc

    def log(self, name):
        with open(os.path.join(self.work, name + ".log")) as f:
            return f.read()

    def test_the_chart_start_commands_serve_in_the_image_layout(self):
        certs = os.path.join(self.work, "certs")
        subprocess.run([os.path.join(REPO, "packaging", "make-certs.sh"), certs], check=True, capture_output=True)
        sql, http, api, metrics = free_port(), free_port(), free_port(), free_port()
        values = os.path.join(self.work, "values.yaml")
        with open(values, "w") as f:
            f.write(f"""lms:
  sourceDialect: postgres
  shadowMode: async
  bindAddress: 127.0.0.1
  service: {{port: {sql}, metricsPort: {http}}}
  configSecretName: lms-config
  shutdownGraceSeconds: 3
  sslVolumes: [{{name: lms-tls, secret: {{secretName: lms-tls}}}}]
  sslVolumeMounts: [{{name: lms-tls, mountPath: /app/certs, readOnly: true}}]
  env:
    - {{name: LMS_SSL_CA, value: /app/certs/lms-ca.crt}}
    - {{name: LMS_SSL_CERT, value: /app/certs/lms-tls.crt}}
    - {{name: LMS_SSL_KEY, value: /app/certs/lms-tls.key}}
orchestrator:
  sourceDialect: postgres
  bindAddress: 127.0.0.1
  service: {{port: {api}, metricsPort: {metrics}}}
  configSecretName: orch-config
""")
        objs = objects(values)
        proxies = find(objs, "Deployment", "lms")
        orch = find(objs, "Deployment", "lms-orchestrator")
        uid = proxies["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        self.assertEqual(uid, 10001)

        def read(path):
            with open(path) as f:
                return f.read()
        # The secrets, as the documentation's ExternalSecrets produce them.
        self.secret("/app/certs", {"lms-ca.crt": read(f"{certs}/ca.crt"), "lms-tls.crt": read(f"{certs}/server.crt"),
                                   "lms-tls.key": read(f"{certs}/server.key")})
        self.secret("/app/configs", {"config.json": json.dumps({"INIT_SOURCE": self.pg.url(),
                                                                "INIT_TARGET": self.target.url(),
                                                                "CRDB_URL": self.target.url()})})
        hosts = os.path.join(self.work, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost lms-headless.default.svc.cluster.local\n")

        proxy = self.run_container(container(proxies), hosts, uid)
        wait_for_port(sql)
        probe = container(proxies)["readinessProbe"]["httpGet"]
        deadline = time.time() + 10
        status = 0
        while time.time() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}{probe['path']}", timeout=5) as r:
                    status = r.status
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.assertEqual(status, 200, self.log("lms"))
        with open(f"/proc/{proxy.pid}/status") as f:
            self.assertRegex(f.read(), rf"Uid:\s+{uid}\s")

        # A client over TLS with the certificate from the mounted secret.
        url = (f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{sql}/{DATABASE}"
               f"?sslmode=verify-full&sslrootcert={certs}/ca.crt")
        r = psql(url, "-Atc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        self.assertEqual(r.returncode, 0, r.stderr + self.log("lms"))
        r = psql(url, "-Atc", "SELECT 40 + 2")
        self.assertEqual(r.stdout.strip(), "42", r.stderr)

        # The orchestrator finds it through the chart's headless Service name, keeps its history
        # in CRDB_URL's database, and a cutover's state lands in the proxy's /app/state.
        self.secret("/app/configs", {"config.json": json.dumps({"LMS_URL": url, "CRDB_URL": self.target.url()})})
        orchestrator = self.run_container(container(orch), hosts, uid)
        wait_for_port(api)
        cli = lambda *a: subprocess.run([CLI_BIN, "--orchestrator-url", f"http://127.0.0.1:{api}", *a],
                                        capture_output=True, text=True, timeout=60)
        r = cli("status", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.log("orchestrator"))
        self.assertEqual([p["sql_address"] for p in json.loads(r.stdout)["proxies"]], [f"127.0.0.1:{sql}"])
        # Begun and aborted for the state it leaves: nothing replicates here for a preflight to prove.
        r = cli("cutover", "consistent", "begin", "--skip-preflight")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.log("orchestrator"))
        r = cli("cutover", "consistent", "abort")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.app, "state", "lms.state")))
        self.assertEqual(self.target.admin("SELECT count(*) FROM lms_orchestrator_history", db=DATABASE), "1")

        # Kubernetes stops both with SIGTERM; each exits cleanly.
        for p, name in ((proxy, "lms"), (orchestrator, "orchestrator")):
            p.terminate()
            self.assertEqual(p.wait(timeout=30), 0, self.log(name))
            self.assertNotIn("AddressSanitizer", self.log(name))


if __name__ == "__main__":
    unittest.main()
