// A small in-memory Kubernetes API server for the operator tests: discovery, get, list and watch
// with resourceVersions (and 410 Gone for compacted ones), server-side apply, merge-patched
// status, delete, and Lease create/replace with optimistic concurrency. The operator talks to it
// through the real @kubernetes/client-node over HTTP.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { load } from 'js-yaml';

export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: string;
  object: StoredObject;
  resourceVersion: number;
}

interface Watcher {
  resource: string;
  namespace?: string;
  labelSelector?: string;
  response: ServerResponse;
}

const RESOURCE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  { group: '', version: 'v1', plural: 'services', kind: 'Service' },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment' },
  { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' },
  { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler' },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget' },
  { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress' },
  { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy' },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' },
  { group: 'flowgate.dev', version: 'v1alpha1', plural: 'flowgates', kind: 'Flowgate' },
];

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function resourceKey(type: ResourceType): string {
  return `${type.group}/${type.version}/${type.plural}`;
}

function matchesSelector(object: StoredObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key = '', value] = term.split('=');
    return object.metadata.labels?.[key] === value;
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function statusBody(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

// Typed clients may leave apiVersion and kind out of the body; the URL says what it is.
function typeMeta(type: ResourceType): { apiVersion: string; kind: string } {
  return { apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind };
}

function sameContent(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, StoredObject>();
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private revision = 100;
  /** Watches from a resourceVersion below this get 410 Gone, as after etcd compaction. */
  private compactedBelow = 0;
  private server: Server | undefined;

  async start(): Promise<KubeConfig> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => send(response, 500, statusBody(500, 'InternalError', String(error))));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'operator', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'operator', namespace: 'default' }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  mutatingRequests(): RecordedRequest[] {
    return this.requests.filter((request) => MUTATING.has(request.method));
  }

  /** Ends every open watch, as a dropped connection or an API server restart would. */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.response.end();
    this.watchers.clear();
  }

  /** Forgets history: watches from any resourceVersion issued so far get 410 Gone. */
  compact(): void {
    this.compactedBelow = this.revision + 1;
  }

  get(kind: string, namespace: string, name: string): StoredObject | undefined {
    const type = RESOURCE_TYPES.find((candidate) => candidate.kind === kind);
    return type ? this.objects.get(this.objectKey(type, namespace, name)) : undefined;
  }

  list(kind: string): StoredObject[] {
    return [...this.objects.values()].filter((object) => object.kind === kind);
  }

  /** Creates or replaces an object directly, as another client (kubectl, a controller) would. */
  put(object: { apiVersion: string; kind: string; metadata: Partial<StoredObject['metadata']> & { name: string }; [field: string]: unknown }): StoredObject {
    const type = RESOURCE_TYPES.find((candidate) => candidate.kind === object.kind);
    if (!type) throw new Error(`unknown kind ${object.kind}`);
    const key = this.objectKey(type, object.metadata.namespace ?? '', object.metadata.name);
    const existing = this.objects.get(key);
    const stored: StoredObject = {
      ...object,
      metadata: {
        ...object.metadata,
        uid: existing?.metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
        generation: existing ? existing.metadata.generation + (sameContent(existing.spec, object.spec) ? 0 : 1) : 1,
        resourceVersion: '',
      },
    } as StoredObject;
    this.commit(type, key, stored, existing ? 'MODIFIED' : 'ADDED');
    return stored;
  }

  remove(kind: string, namespace: string, name: string): void {
    const type = RESOURCE_TYPES.find((candidate) => candidate.kind === kind);
    if (!type) throw new Error(`unknown kind ${kind}`);
    const key = this.objectKey(type, namespace, name);
    const existing = this.objects.get(key);
    if (existing) this.deleteObject(type, key, existing);
  }

  private objectKey(type: ResourceType, namespace: string, name: string): string {
    return `${resourceKey(type)}/${namespace}/${name}`;
  }

  private commit(type: ResourceType, key: string, object: StoredObject, eventType: WatchEvent['type']): void {
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.objects.set(key, object);
    this.publish({ type: eventType, resource: resourceKey(type), object, resourceVersion: this.revision });
  }

  private deleteObject(type: ResourceType, key: string, object: StoredObject): void {
    this.objects.delete(key);
    this.revision += 1;
    const deleted = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.revision) } };
    this.publish({ type: 'DELETED', resource: resourceKey(type), object: deleted, resourceVersion: this.revision });
  }

  private publish(event: WatchEvent): void {
    this.events.push(event);
    for (const watcher of this.watchers) this.deliver(watcher, event);
  }

  private deliver(watcher: Watcher, event: WatchEvent): void {
    if (watcher.resource !== event.resource) return;
    if (watcher.namespace && watcher.namespace !== event.object.metadata.namespace) return;
    if (!matchesSelector(event.object, watcher.labelSelector)) return;
    watcher.response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
  }

  private async readBody(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return undefined;
    // Apply patches may be YAML; JSON is valid YAML.
    return load(text);
  }

  private route(path: string): { type: ResourceType; namespace?: string; name?: string; subresource?: string } | 'discovery' | undefined {
    const parts = path.split('/').filter(Boolean);
    let group = '';
    let rest: string[];
    let version: string | undefined;
    if (parts[0] === 'api') {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis') {
      group = parts[1] ?? '';
      version = parts[2];
      rest = parts.slice(3);
    } else return undefined;
    if (rest.length === 0) return 'discovery';
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = RESOURCE_TYPES.find((candidate) => candidate.group === group && candidate.version === version && candidate.plural === rest[0]);
    if (!type) return undefined;
    return { type, ...(namespace ? { namespace } : {}), ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const contentType = request.headers['content-type'];
    this.requests.push({ method, path: url.pathname + (url.searchParams.get('watch') ? '?watch' : ''), ...(contentType ? { contentType } : {}) });
    const route = this.route(url.pathname);
    if (route === 'discovery') return this.discovery(url.pathname, response);
    if (!route) return send(response, 404, statusBody(404, 'NotFound', `no route for ${url.pathname}`));
    const { type, namespace, name, subresource } = route;

    if (!name && method === 'GET') {
      if (url.searchParams.get('watch') === 'true') return this.watch(type, namespace, url.searchParams, response);
      const items = [...this.objects.values()].filter(
        (object) =>
          object.kind === type.kind &&
          (!namespace || object.metadata.namespace === namespace) &&
          matchesSelector(object, url.searchParams.get('labelSelector') ?? undefined),
      );
      return send(response, 200, { apiVersion: typeMeta(type).apiVersion, kind: `${type.kind}List`, metadata: { resourceVersion: String(this.revision) }, items });
    }
    if (!name && method === 'POST') {
      const body = (await this.readBody(request)) as StoredObject;
      const key = this.objectKey(type, namespace ?? '', body.metadata.name);
      if (this.objects.has(key)) return send(response, 409, statusBody(409, 'AlreadyExists', `${body.metadata.name} exists`));
      return send(response, 201, this.put({ ...body, ...typeMeta(type), metadata: { ...body.metadata, namespace: namespace ?? '' } }));
    }
    if (!name) return send(response, 405, statusBody(405, 'MethodNotAllowed', method));

    const key = this.objectKey(type, namespace ?? '', name);
    const existing = this.objects.get(key);
    switch (method) {
      case 'GET':
        return existing ? send(response, 200, existing) : send(response, 404, statusBody(404, 'NotFound', `${name} not found`));
      case 'DELETE':
        if (!existing) return send(response, 404, statusBody(404, 'NotFound', `${name} not found`));
        this.deleteObject(type, key, existing);
        return send(response, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      case 'PUT': {
        const body = (await this.readBody(request)) as StoredObject;
        if (!existing) return send(response, 404, statusBody(404, 'NotFound', `${name} not found`));
        if (body.metadata.resourceVersion !== existing.metadata.resourceVersion) {
          return send(response, 409, statusBody(409, 'Conflict', 'the object has been modified'));
        }
        return send(response, 200, this.put({ ...body, ...typeMeta(type), metadata: { ...body.metadata, namespace: namespace ?? '' } }));
      }
      case 'PATCH':
        return this.patch(type, key, existing, subresource, contentType ?? '', await this.readBody(request), url.searchParams, response);
      default:
        return send(response, 405, statusBody(405, 'MethodNotAllowed', method));
    }
  }

  private patch(
    type: ResourceType,
    key: string,
    existing: StoredObject | undefined,
    subresource: string | undefined,
    contentType: string,
    body: unknown,
    query: URLSearchParams,
    response: ServerResponse,
  ): void {
    if (subresource === 'status') {
      if (!existing) return send(response, 404, statusBody(404, 'NotFound', 'not found'));
      if (!contentType.startsWith('application/merge-patch+json')) return send(response, 415, statusBody(415, 'UnsupportedMediaType', contentType));
      const status = mergePatch(existing.status, (body as { status?: unknown }).status);
      if (sameContent(status, existing.status)) return send(response, 200, existing);
      const updated = { ...existing, status };
      this.commit(type, key, updated, 'MODIFIED');
      return send(response, 200, updated);
    }
    if (!contentType.startsWith('application/apply-patch+yaml')) return send(response, 415, statusBody(415, 'UnsupportedMediaType', contentType));
    if (!query.get('fieldManager')) return send(response, 422, statusBody(422, 'Invalid', 'fieldManager is required for apply'));
    const applied = body as StoredObject;
    // Simplified apply: the applied configuration replaces every field but metadata the server
    // owns and status. Unchanged content is a no-op that keeps the resourceVersion, as in Kubernetes.
    const next: StoredObject = {
      ...applied,
      metadata: {
        ...applied.metadata,
        uid: existing?.metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
        generation: existing ? existing.metadata.generation + (sameContent(existing.spec, applied.spec) ? 0 : 1) : 1,
        resourceVersion: existing?.metadata.resourceVersion ?? '',
      },
      ...(existing?.status !== undefined ? { status: existing.status } : {}),
    };
    if (existing && sameContent(next, existing)) return send(response, 200, existing);
    this.commit(type, key, next, existing ? 'MODIFIED' : 'ADDED');
    send(response, existing ? 200 : 201, next);
  }

  private watch(type: ResourceType, namespace: string | undefined, query: URLSearchParams, response: ServerResponse): void {
    const from = Number(query.get('resourceVersion') || '0');
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The API server answers a watch with headers at once, before any event.
    response.flushHeaders();
    if (from < this.compactedBelow) {
      // What the API server sends for a compacted resourceVersion: an ERROR event, then close.
      response.end(`${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${from}`) })}\n`);
      return;
    }
    const labelSelector = query.get('labelSelector') ?? undefined;
    const watcher: Watcher = { resource: resourceKey(type), ...(namespace ? { namespace } : {}), ...(labelSelector ? { labelSelector } : {}), response };
    for (const event of this.events) if (event.resourceVersion > from) this.deliver(watcher, event);
    this.watchers.add(watcher);
    response.on('close', () => this.watchers.delete(watcher));
    const timeoutSeconds = Number(query.get('timeoutSeconds') || '0');
    if (timeoutSeconds > 0) setTimeout(() => response.end(), timeoutSeconds * 1000).unref();
  }

  private discovery(path: string, response: ServerResponse): void {
    const parts = path.split('/').filter(Boolean);
    const [group, version] = parts[0] === 'api' ? ['', parts[1]] : [parts[1] ?? '', parts[2]];
    const resources = RESOURCE_TYPES.filter((type) => type.group === group && type.version === version);
    if (resources.length === 0) return send(response, 404, statusBody(404, 'NotFound', `${path} not served`));
    send(response, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: resources.map((type) => ({ name: type.plural, singularName: '', namespaced: true, kind: type.kind, verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] })),
    });
  }
}
