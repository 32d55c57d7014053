import type { RenderedMetadata } from './naming.js';

/** A rendered object, as it is applied: plain JSON with the metadata the operator sets. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: RenderedMetadata;
  [field: string]: unknown;
}
