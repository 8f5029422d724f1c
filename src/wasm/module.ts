/** A WebAssembly linear memory: a kernel's own, or a shared one several threads run on. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

// The slice of the WebAssembly API used here (the project's TypeScript lib has no DOM types).
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
export const WASM_PAGE = 65_536;
/** The maximum a shared kernel memory declares (bag.wat): 4 GiB, all wasm32 can address. */
const SHARED_MAX_PAGES = 65_536;

/** What a kernel module with its own memory exports. */
export interface KernelExports {
  memory: WasmMemory;
}

/** A hand-written kernel module (its bytes embedded as base64 by `npm run wasm`). */
export interface KernelModule<T> {
  /** A new instance with its own memory of at least `bytes`; grown once, here, so views of it stay valid. */
  instantiate(bytes: number): T;
  /** A new instance on `memory` (modules that import a shared `env.memory`). */
  instantiateOn(memory: WasmMemory): T;
}

/** A shared memory of at least `bytes`, for modules that import one. */
export function sharedMemory(bytes: number): WasmMemory {
  return new Wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE)), maximum: SHARED_MAX_PAGES, shared: true });
}

/**
 * Compiles a kernel module on first use, or returns null where this engine rejects its bytes
 * (no WebAssembly SIMD, or no shared memory for a module that imports one): callers then run
 * their JS loops.
 */
export function kernelModule<T>(base64: string): KernelModule<T> | null {
  const bytes = Buffer.from(base64, 'base64');
  if (!Wasm.validate(bytes)) return null;
  let compiled: object | null = null;
  const compile = (): object => (compiled ??= new Wasm.Module(bytes));
  return {
    instantiate(size: number): T {
      const exports = new Wasm.Instance(compile()).exports as T & KernelExports;
      exports.memory.grow(Math.max(0, Math.ceil(size / WASM_PAGE) - exports.memory.buffer.byteLength / WASM_PAGE));
      return exports;
    },
    instantiateOn(memory: WasmMemory): T {
      return new Wasm.Instance(compile(), { env: { memory } }).exports as T;
    },
  };
}
