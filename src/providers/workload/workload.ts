/** One Deployment's container in one namespace. */
export interface WorkloadRef {
  namespace: string;
  deployment: string;
  container: string;
}

export type RolloutState =
  /** Pods of the new template are still coming up. */
  | { phase: 'progressing'; message: string }
  /** Every replica runs the current template and is available. */
  | { phase: 'complete'; message: string }
  /** The rollout cannot finish by itself: a crash-looping or unpullable pod, or the progress deadline passed. */
  | { phase: 'failed'; message: string; pod?: string; reason: string };

/** A one-off container run to completion: a catalog hook (migrations before, end-to-end checks after). */
export interface JobSpec {
  namespace: string;
  /** Unique per deployment and hook: a name that already exists counts as this Job (see runJob). At most 63 characters. */
  name: string;
  image: string;
  /** Replaces the image's entrypoint. */
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  /** On the Job and its pod. Keep them clear of any Deployment's selector, or its rollout would count the hook's pod. */
  labels?: Record<string, string>;
  /** The cluster stops the Job after this long, and it fails with DeadlineExceeded. */
  activeDeadlineSeconds?: number;
}

export interface JobState {
  /** running: not finished (its pod may still be pending); succeeded and failed are final. */
  phase: 'running' | 'succeeded' | 'failed';
  message: string;
  /** Failed only: the reason of the Job's Failed condition, e.g. BackoffLimitExceeded or DeadlineExceeded. */
  reason?: string;
  /** The last lines of its pod's log once it finished; empty while running, or when the log could not be read. */
  logTail: string[];
}

/** Runs new versions of a service's containers. */
export interface WorkloadProvider {
  /** The image of the container in the Deployment's pod template. */
  readImage(ref: WorkloadRef): Promise<string>;
  /** Sets the container's image with a strategic-merge patch; no request when it already has it. */
  setImage(ref: WorkloadRef, image: string): Promise<{ changed: boolean }>;
  /** What `kubectl rollout status` would say, plus crash-loop and image-pull failures of its pods. */
  rolloutStatus(ref: WorkloadRef): Promise<RolloutState>;
  /**
   * Puts back the whole pod template of the newest ReplicaSet that ran `image` in the container,
   * as `kubectl rollout undo --to-revision` would; `setImage` when no ReplicaSet did. Safe to call
   * again: nothing is sent when the container already has `image`.
   */
  rollbackToImage(ref: WorkloadRef, image: string): Promise<{ changed: boolean }>;
  /** Creates the Job (no retries, no restarts); `created: false` when a Job of that name already exists, from an earlier try. */
  runJob(spec: JobSpec): Promise<{ created: boolean }>;
  /** The Job's state, and once it finished the tail of its pod's log. */
  jobStatus(namespace: string, name: string): Promise<JobState>;
}
