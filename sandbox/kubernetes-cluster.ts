import { randomBytes, randomUUID } from 'node:crypto';
import {
  canonical,
  compact,
  encode,
  now,
  renderPod,
  renderReplicaSet,
  setCondition,
  templateHash,
  type DeploymentObject,
  type Labels,
  type PodFailure,
  type PodFailureReason,
  type PodTemplate,
  type SimDeployment,
  type SimPod,
  type SimReplicaSet,
} from './kubernetes-objects.js';

/**
 * The Deployment and ReplicaSet controllers, reduced to what a deploy tool observes: each
 * tick moves every rollout one replica, as with `maxSurge: 1, maxUnavailable: 0`.
 */
export class SimulatedCluster {
  paused = false;
  private readonly deployments = new Map<string, SimDeployment>();
  private readonly failures: { pattern: string | RegExp; reason: PodFailureReason }[] = [];
  private resourceVersion = 1000;

  add(input: {
    namespace: string;
    name: string;
    container: string;
    image: string;
    replicas?: number;
    labels?: Labels;
  }): DeploymentObject {
    const labels = input.labels ?? { app: input.name };
    const object: DeploymentObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: input.name,
        namespace: input.namespace,
        uid: randomUUID(),
        generation: 1,
        resourceVersion: this.nextVersion(),
        creationTimestamp: now(),
        labels: { ...labels },
        annotations: {},
      },
      spec: {
        replicas: input.replicas ?? 3,
        selector: { matchLabels: { ...labels } },
        template: {
          metadata: { labels: { ...labels } },
          spec: { containers: [{ name: input.container, image: input.image }] },
        },
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
      status: { observedGeneration: 0, conditions: [] },
    };
    const sim: SimDeployment = { object, replicaSets: [], deadlineExceeded: false };
    this.deployments.set(`${input.namespace}/${input.name}`, sim);
    this.observe(sim);
    const current = sim.current as SimReplicaSet;
    for (let i = 0; i < object.spec.replicas; i += 1) current.pods.push({ ...this.newPod(current), ready: true });
    this.updateStatus(sim);
    return object;
  }

  get(namespace: string, name: string): DeploymentObject | undefined {
    return this.deployments.get(`${namespace}/${name}`)?.object;
  }

  list(namespace: string): DeploymentObject[] {
    return [...this.deployments.values()].map((d) => d.object).filter((o) => o.metadata.namespace === namespace);
  }

  /** Stores a patched Deployment; a spec change bumps the generation, which the next tick observes. */
  replace(namespace: string, name: string, next: DeploymentObject): DeploymentObject {
    const sim = this.deployments.get(`${namespace}/${name}`);
    if (!sim) throw new Error(`no deployment ${namespace}/${name}`);
    const before = sim.object;
    // Fields only the server writes: a patch that touches them is ignored there, as on a real cluster.
    const { uid, creationTimestamp, generation, resourceVersion } = before.metadata;
    Object.assign(next, { apiVersion: before.apiVersion, kind: before.kind, status: before.status });
    Object.assign(next.metadata, { uid, creationTimestamp, generation, resourceVersion });
    if (canonical(next.spec) !== canonical(before.spec)) next.metadata.generation = generation + 1;
    if (canonical(next.spec.template) !== canonical(before.spec.template)) sim.deadlineExceeded = false;
    if (canonical(next) !== canonical(before)) next.metadata.resourceVersion = this.nextVersion();
    sim.object = next;
    return next;
  }

  failImage(pattern: string | RegExp, reason: PodFailureReason): void {
    this.failures.push({ pattern, reason });
  }

  /** What the controller reports when the rollout made no progress for progressDeadlineSeconds. */
  exceedDeadline(namespace: string, name: string): void {
    const sim = this.deployments.get(`${namespace}/${name}`);
    if (!sim) throw new Error(`no deployment ${namespace}/${name}`);
    this.observe(sim);
    sim.deadlineExceeded = true;
    this.updateStatus(sim);
  }

  tick(): void {
    if (this.paused) return;
    for (const sim of this.deployments.values()) {
      if (sim.deadlineExceeded) continue;
      this.observe(sim);
      this.step(sim);
      this.updateStatus(sim);
    }
  }

  pods(namespace: string, matches: (labels: Labels) => boolean): object[] {
    const out: object[] = [];
    for (const sim of this.deployments.values()) {
      if (sim.object.metadata.namespace !== namespace) continue;
      for (const rs of sim.replicaSets) {
        const labels = { ...rs.template.metadata.labels, 'pod-template-hash': rs.hash };
        if (matches(labels))
          out.push(
            ...rs.pods.map((pod) =>
              renderPod(sim, rs, pod, labels, pod.ready ? undefined : this.failureOf(rs.template)),
            ),
          );
      }
    }
    return out;
  }

  replicaSets(namespace: string, matches: (labels: Labels) => boolean): object[] {
    const out: object[] = [];
    for (const sim of this.deployments.values()) {
      if (sim.object.metadata.namespace !== namespace) continue;
      for (const rs of sim.replicaSets) {
        const labels = { ...rs.template.metadata.labels, 'pod-template-hash': rs.hash };
        if (matches(labels)) out.push(renderReplicaSet(sim, rs, labels));
      }
    }
    return out;
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  private failureOf(template: PodTemplate): PodFailure | undefined {
    for (const container of template.spec.containers) {
      const failure = this.failures.find(({ pattern }) =>
        typeof pattern === 'string' ? container.image.includes(pattern) : pattern.test(container.image),
      );
      if (failure) return { container, reason: failure.reason };
    }
    return undefined;
  }

  /** The controller catches up with a new generation: the ReplicaSet of the current template becomes the new one. */
  private observe(sim: SimDeployment): void {
    const object = sim.object;
    if (object.status.observedGeneration >= object.metadata.generation) return;
    object.status.observedGeneration = object.metadata.generation;
    const key = canonical(object.spec.template);
    const revision = Math.max(0, ...sim.replicaSets.map((rs) => rs.revision)) + 1;
    let rs = sim.replicaSets.find((candidate) => canonical(candidate.template) === key);
    if (!rs) {
      const template = structuredClone(object.spec.template);
      const hash = templateHash(template);
      rs = {
        name: `${object.metadata.name}-${hash}`,
        uid: randomUUID(),
        hash,
        revision,
        template,
        createdAt: now(),
        pods: [],
      };
      sim.replicaSets.push(rs);
    } else if (rs !== sim.current) {
      // Rolling back to an older template reuses its ReplicaSet under a new revision, as `rollout undo` shows.
      rs.revision = revision;
    }
    sim.current = rs;
    object.metadata.annotations['deployment.kubernetes.io/revision'] = String(rs.revision);
  }

  private step(sim: SimDeployment): void {
    const current = sim.current;
    if (!current) return;
    const desired = sim.object.spec.replicas;
    const old = sim.replicaSets.filter((rs) => rs !== current);
    const failure = this.failureOf(current.template);
    if (failure) {
      for (const pod of current.pods) if (!pod.ready && failure.reason === 'CrashLoopBackOff') pod.restarts += 1;
    } else {
      const starting = current.pods.find((pod) => !pod.ready);
      if (starting) starting.ready = true;
    }
    const oldPods = old.flatMap((rs) => rs.pods.map((pod) => ({ rs, pod })));
    const readyNew = current.pods.filter((pod) => pod.ready).length;
    // Unhealthy old pods go first: they count against nothing, so waiting for them helps no one.
    const surplusOld = readyNew + oldPods.filter(({ pod }) => pod.ready).length > desired;
    const victim = oldPods.find(({ pod }) => !pod.ready) ?? (surplusOld ? oldPods[0] : undefined);
    if (victim) victim.rs.pods.splice(victim.rs.pods.indexOf(victim.pod), 1);
    if (current.pods.length > desired) {
      const surplus = current.pods.find((pod) => !pod.ready) ?? current.pods[current.pods.length - 1];
      if (surplus) current.pods.splice(current.pods.indexOf(surplus), 1);
    }
    const total = sim.replicaSets.reduce((n, rs) => n + rs.pods.length, 0);
    if (current.pods.length < desired && total < desired + 1) current.pods.push(this.newPod(current));
  }

  private newPod(rs: SimReplicaSet): SimPod {
    return {
      name: `${rs.name}-${encode(randomBytes(5), 5)}`,
      uid: randomUUID(),
      ready: false,
      restarts: 0,
      createdAt: now(),
    };
  }

  private updateStatus(sim: SimDeployment): void {
    const { object, current } = sim;
    const desired = object.spec.replicas;
    const pods = sim.replicaSets.flatMap((rs) => rs.pods);
    const ready = pods.filter((pod) => pod.ready).length;
    const updated = current?.pods.length ?? 0;
    const status = object.status;
    const counts = compact({
      replicas: pods.length,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, pods.length - ready),
    });
    object.status = { observedGeneration: status.observedGeneration, ...counts, conditions: status.conditions };
    const available = ready >= desired;
    const availability = available
      ? ['MinimumReplicasAvailable', 'has']
      : ['MinimumReplicasUnavailable', 'does not have'];
    setCondition(
      object,
      'Available',
      available,
      availability[0] ?? '',
      `Deployment ${availability[1] ?? ''} minimum availability.`,
    );
    const rs = `ReplicaSet "${current?.name ?? object.metadata.name}"`;
    const complete = updated === desired && pods.length === desired && ready === desired;
    if (sim.deadlineExceeded)
      setCondition(object, 'Progressing', false, 'ProgressDeadlineExceeded', `${rs} has timed out progressing.`);
    else if (complete)
      setCondition(object, 'Progressing', true, 'NewReplicaSetAvailable', `${rs} has successfully progressed.`);
    else setCondition(object, 'Progressing', true, 'ReplicaSetUpdated', `${rs} is progressing.`);
  }
}
