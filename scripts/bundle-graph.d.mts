/** Types of scripts/bundle-graph.mjs, for the tests. */
export interface MetafileOutput {
  bytes: number;
  entryPoint?: string;
  inputs: Record<string, unknown>;
  imports: { path: string; kind: string; external?: boolean }[];
}
export interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, MetafileOutput>;
}
export declare function staticClosure(meta: Metafile, start: string): Set<string>;
export declare function fullClosure(meta: Metafile, starts: string[]): Set<string>;
export declare function stdioFiles(meta: Metafile, entry: string, stdio: string): string[];
