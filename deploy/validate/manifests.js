#!/usr/bin/env node
// Checks of deploy/ that need a YAML parser and the Kubernetes schemas; deploy/verify.sh runs them.
//   node manifests.js validate RENDERED.yaml...       every object against its Kubernetes (or CRD) schema
//   node manifests.js references RENDERED.yaml        Services, PDB, HPA, volumes point at what exists
//   node manifests.js field RENDERED.yaml WHAT        args | probes | ports | grace | prestop | limits | cpu-slots
//                                                      | routes (one per line)
//   node manifests.js metrics FILE...                  metric names used by rules, dashboards, adapter rules
//   node manifests.js base DIR                         a kustomize base's resources and generated ConfigMaps,
//                                                      as written (no labels, no overlays): the fallback
//                                                      where no kubectl with kustomize v4+ is installed
'use strict';
const fs = require('fs');
const YAML = require('yaml');

const CONTAINER = 'junction';

function load(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter((o) => o);
}

function modelClass(obj) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const candidates = group === 'monitoring.coreos.com'
    ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${obj.kind}`]
    : [`kubernetes-models/${group ? group + '/' : ''}${version}/${obj.kind}`];
  for (const path of candidates) {
    try {
      return require(path)[obj.kind];
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
}

function validate(files) {
  let failed = 0;
  for (const file of files) {
    for (const obj of load(file)) {
      const id = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
      try {
        const Model = modelClass(obj);
        new Model(obj).validate();
        console.log(`ok   ${file}: ${obj.apiVersion} ${id}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${file}: ${id}: ${e.message.split('\n').slice(0, 5).join('; ')}`);
      }
    }
  }
  return failed === 0;
}

function byKind(objects, kind) {
  return objects.filter((o) => o.kind === kind);
}

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels[k] === v);
}

function deployment(objects) {
  const [d] = byKind(objects, 'Deployment').filter((o) => o.metadata.name === 'junction');
  if (!d) throw new Error('no Deployment "junction"');
  return d;
}

function container(d) {
  const c = d.spec.template.spec.containers.find((x) => x.name === CONTAINER);
  if (!c) throw new Error(`Deployment ${d.metadata.name} has no container "${CONTAINER}"`);
  return c;
}

// Everything one object names must exist among the others, or the cluster would take it and never work.
function references(file) {
  const objects = load(file);
  const problems = [];
  const d = deployment(objects);
  const podLabels = d.spec.template.metadata.labels;
  if (!matches(d.spec.selector.matchLabels, podLabels)) problems.push('Deployment selector does not match its pod labels');
  const c = container(d);
  const portNames = new Set((c.ports || []).map((p) => p.name));
  for (const s of byKind(objects, 'Service')) {
    if (!matches(s.spec.selector, podLabels)) problems.push(`Service ${s.metadata.name} selects no junction pod`);
    for (const p of s.spec.ports) {
      if (typeof p.targetPort === 'string' && !portNames.has(p.targetPort)) {
        problems.push(`Service ${s.metadata.name} targets port "${p.targetPort}" the container does not name`);
      }
    }
  }
  if (!byKind(objects, 'Service').some((s) => s.spec.clusterIP === 'None')) problems.push('no headless Service');
  for (const p of byKind(objects, 'PodDisruptionBudget')) {
    if (!matches(p.spec.selector.matchLabels, podLabels)) problems.push(`PodDisruptionBudget ${p.metadata.name} selects no junction pod`);
  }
  for (const h of byKind(objects, 'HorizontalPodAutoscaler')) {
    const ref = h.spec.scaleTargetRef;
    if (!objects.some((o) => o.kind === ref.kind && o.metadata.name === ref.name)) {
      problems.push(`HorizontalPodAutoscaler ${h.metadata.name} scales ${ref.kind}/${ref.name}, which is not there`);
    }
    if (!(h.spec.behavior && h.spec.behavior.scaleUp && h.spec.behavior.scaleDown)) problems.push('HPA without scale-up/down behaviour');
  }
  for (const m of byKind(objects, 'ServiceMonitor')) {
    for (const e of m.spec.endpoints) {
      const served = byKind(objects, 'Service').some((s) => matches(m.spec.selector.matchLabels, s.metadata.labels || {})
        && s.spec.ports.some((p) => p.name === e.port));
      if (!served) problems.push(`ServiceMonitor ${m.metadata.name} scrapes port "${e.port}" no selected Service has`);
    }
  }
  const volumes = d.spec.template.spec.volumes || [];
  for (const v of volumes) {
    if (v.configMap && !byKind(objects, 'ConfigMap').some((o) => o.metadata.name === v.configMap.name)) {
      problems.push(`volume ${v.name} mounts ConfigMap ${v.configMap.name}, which is not there`);
    }
    if (v.persistentVolumeClaim && !byKind(objects, 'PersistentVolumeClaim').some((o) => o.metadata.name === v.persistentVolumeClaim.claimName)) {
      problems.push(`volume ${v.name} mounts PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}, which is not there`);
    }
  }
  for (const m of c.volumeMounts || []) {
    if (!volumes.some((v) => v.name === m.name)) problems.push(`volumeMount ${m.name} has no volume`);
  }
  for (const [probe, spec] of Object.entries({ startupProbe: c.startupProbe, livenessProbe: c.livenessProbe, readinessProbe: c.readinessProbe })) {
    if (!spec || !spec.httpGet) problems.push(`container has no HTTP ${probe}`);
    else if (typeof spec.httpGet.port === 'string' && !portNames.has(spec.httpGet.port)) problems.push(`${probe} uses port "${spec.httpGet.port}" the container does not name`);
  }
  problems.forEach((p) => console.log(`FAIL ${file}: ${p}`));
  if (!problems.length) console.log(`ok   ${file}: references between ${objects.length} objects`);
  return problems.length === 0;
}

// What --cpu-slots the server gets: the flag, else JUNCTION_CPU_SLOTS as written or as the Downward API fills it
// from the container's own resources (rounded up to the divisor, as the kubelet does), else "cores".
function cpuSlots(c) {
  const flag = (c.args || []).find((a) => a.startsWith('--cpu-slots='));
  if (flag) return flag.split('=')[1];
  const env = (c.env || []).find((e) => e.name === 'JUNCTION_CPU_SLOTS');
  if (!env) return 'cores';
  if (env.value !== undefined) return env.value;
  const ref = env.valueFrom && env.valueFrom.resourceFieldRef;
  if (!ref) return 'unknown';
  const [kind, resource] = ref.resource.split('.'); // requests.cpu, limits.memory ...
  const amount = ((c.resources || {})[kind] || {})[resource];
  if (amount === undefined) return `unset (${ref.resource} is not set)`;
  const cores = (q) => (String(q).endsWith('m') ? Number(String(q).slice(0, -1)) / 1000 : Number(q));
  return String(Math.ceil(cores(amount) / cores(ref.divisor || '1')));
}

function field(file, what) {
  const d = deployment(load(file));
  const c = container(d);
  const portNumber = (p) => (typeof p === 'number' ? p : c.ports.find((x) => x.name === p).containerPort);
  switch (what) {
    case 'args':
      return (c.args || []);
    case 'probes':
      return ['startupProbe', 'livenessProbe', 'readinessProbe']
        .map((k) => `${k} ${portNumber(c[k].httpGet.port)} ${c[k].httpGet.path}`);
    case 'ports':
      return c.ports.map((p) => `${p.name} ${p.containerPort}`);
    case 'grace':
      return [String(d.spec.template.spec.terminationGracePeriodSeconds)];
    case 'prestop': {
      const cmd = c.lifecycle && c.lifecycle.preStop && c.lifecycle.preStop.exec && c.lifecycle.preStop.exec.command;
      return [cmd && cmd[0] === 'sleep' ? cmd[1] : '0'];
    }
    case 'limits':
      return Object.entries((c.resources && c.resources.limits) || {}).map(([k, v]) => `${k} ${v}`);
    case 'cpu-slots':
      return [cpuSlots(c)];
    case 'routes': {
      const cm = load(file).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'junction-routes');
      return [cm.data['routes.yaml']];
    }
    default:
      throw new Error(`unknown field ${what}`);
  }
}

// Metric names in PromQL expressions of rule files, Grafana dashboards and Prometheus Adapter rules.
function metrics(files) {
  const exprs = [];
  const walk = (node, key) => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, key));
    else if (node && typeof node === 'object') Object.entries(node).forEach(([k, v]) => walk(v, k));
    else if (typeof node === 'string' && ['expr', 'seriesQuery', 'metricsQuery', 'query', 'definition'].includes(key)) exprs.push(node);
  };
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const docs = file.endsWith('.json') ? [JSON.parse(text)] : YAML.parseAllDocuments(text).map((d) => d.toJS());
    docs.forEach((d) => walk(d, ''));
  }
  const names = new Set();
  for (const e of exprs) {
    // Label values and matchers are quoted; names outside quotes that look like Junction's or the JVM's.
    const unquoted = e.replace(/"[^"]*"/g, '""');
    for (const m of unquoted.matchAll(/\b((?:nv|junction|jvm|process|DCGM)_[A-Za-z0-9_]+)\b/g)) names.add(m[1]);
  }
  return [...names].sort();
}

function base(dir) {
  const k = YAML.parse(fs.readFileSync(`${dir}/kustomization.yaml`, 'utf8'));
  const docs = (k.resources || []).map((r) => fs.readFileSync(`${dir}/${r}`, 'utf8'));
  for (const g of k.configMapGenerator || []) {
    const data = {};
    for (const f of g.files || []) data[f.split('/').pop()] = fs.readFileSync(`${dir}/${f}`, 'utf8');
    docs.push(YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data }));
  }
  return docs.join('\n---\n');
}

const [cmd, ...args] = process.argv.slice(2);
try {
  switch (cmd) {
    case 'validate':
      process.exit(validate(args) ? 0 : 1);
      break;
    case 'references':
      process.exit(references(args[0]) ? 0 : 1);
      break;
    case 'field':
      console.log(field(args[0], args[1]).join('\n'));
      break;
    case 'metrics':
      console.log(metrics(args).join('\n'));
      break;
    case 'base':
      console.log(base(args[0]));
      break;
    default:
      console.error('usage: manifests.js validate|references|field|metrics|base ...');
      process.exit(2);
  }
} catch (e) {
  console.error(`FAIL ${e.message}`);
  process.exit(1);
}
