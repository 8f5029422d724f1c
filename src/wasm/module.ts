// The slice of the WebAssembly API used here (the project's TypeScript lib has no DOM types).
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const PAGE = 65_536;

/** What every kernel module exports: its own linear memory. */
export interface KernelExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
}

/** A hand-written kernel module (its bytes embedded as base64 by `npm run wasm`). */
export interface KernelModule<T extends KernelExports> {
  /** A new instance with its own memory of at least `bytes`; grown once, here, so views of it stay valid. */
  instantiate(bytes: number): T;
}

/**
 * Compiles a kernel module on first use, or returns null where this engine rejects its bytes
 * (no WebAssembly SIMD): callers then run their JS loops.
 */
export function kernelModule<T extends KernelExports>(base64: string): KernelModule<T> | null {
  const bytes = Buffer.from(base64, 'base64');
  if (!Wasm.validate(bytes)) return null;
  let compiled: object | null = null;
  return {
    instantiate(size: number): T {
      compiled ??= new Wasm.Module(bytes);
      const exports = new Wasm.Instance(compiled).exports as T;
      exports.memory.grow(Math.max(0, Math.ceil(size / PAGE) - exports.memory.buffer.byteLength / PAGE));
      return exports;
    },
  };
}
