// The operator's only door to the API server: server-side apply, list, delete, API discovery
// and status writes, on top of @kubernetes/client-node.
import {
  ApiException,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { FLOWGATE_GROUP, FLOWGATE_PLURAL, FLOWGATE_VERSION, type FlowgateResource, type FlowgateStatus } from './flowgateResource.js';
import { FIELD_MANAGER, type Manifest } from './render/index.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

// Exposes the generic client's discovery lookup, which it keeps protected.
class DiscoveringObjectApi extends KubernetesObjectApi {
  async kindIsServed(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resource(apiVersion, kind)) !== undefined;
  }
}

export class ClusterClient {
  private readonly objects: DiscoveringObjectApi;
  private readonly customObjects: CustomObjectsApi;
  private readonly availableApis = new Map<string, boolean>();

  constructor(kubeConfig: KubeConfig) {
    this.objects = kubeConfig.makeApiClient(DiscoveringObjectApi);
    this.customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Server-side apply with the operator's field manager; force takes over fields from kubectl edits. */
  async apply(manifest: Manifest): Promise<KubernetesObject> {
    return this.objects.patch(manifest, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  /** Lists kind in namespace ('' for all namespaces), with the list's resourceVersion to watch from. */
  async list(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<{ items: KubernetesObject[]; resourceVersion: string }> {
    const list = await this.objects.list(apiVersion, kind, namespace || undefined, undefined, undefined, undefined, undefined, labelSelector);
    // Lists omit each item's apiVersion/kind; callers compare them with rendered manifests.
    return { items: list.items.map((item) => ({ ...item, apiVersion, kind })), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      await this.objects.delete(
        { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Whether the cluster serves kind in apiVersion (e.g. ServiceMonitor from prometheus-operator). Cached per process. */
  async servesKind(apiVersion: string, kind: string): Promise<boolean> {
    const key = `${apiVersion}/${kind}`;
    const known = this.availableApis.get(key);
    if (known !== undefined) return known;
    let served: boolean;
    try {
      served = await this.objects.kindIsServed(apiVersion, kind);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      served = false;
    }
    // Only cache a positive answer: a CRD installed later is picked up on the next reconcile.
    if (served) this.availableApis.set(key, true);
    return served;
  }

  async readFlowgate(namespace: string, name: string): Promise<unknown> {
    try {
      return await this.customObjects.getNamespacedCustomObject({ group: FLOWGATE_GROUP, version: FLOWGATE_VERSION, namespace, plural: FLOWGATE_PLURAL, name });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async listFlowgates(): Promise<{ items: unknown[]; resourceVersion: string }> {
    const list = (await this.customObjects.listClusterCustomObject({ group: FLOWGATE_GROUP, version: FLOWGATE_VERSION, plural: FLOWGATE_PLURAL })) as {
      items?: unknown[];
      metadata?: { resourceVersion?: string };
    };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async writeStatus(flowgate: FlowgateResource, status: FlowgateStatus): Promise<void> {
    const { namespace, name } = flowgate.metadata;
    await this.customObjects.patchNamespacedCustomObjectStatus(
      { group: FLOWGATE_GROUP, version: FLOWGATE_VERSION, namespace, plural: FLOWGATE_PLURAL, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
