// Kernel contracts: what a WGSL kernel takes, declared once by name next to the code that launches it — the
// fields of its `struct Params` uniform (binding 0), its buffer bindings (1, 2, …), the override constants the
// launcher sets, and the files that can be composed in front of it (variants of how an operand is read). The
// runtime packs the parameters by these declarations, with WGSL's alignment rules, and test/contracts.test.ts
// parses every .wgsl file to check that the declarations match it.

export type ScalarType = 'u32' | 'i32' | 'f32';
export type FieldType = ScalarType | 'vec4<u32>' | 'vec4<i32>' | 'vec4<f32>';
type Vec4 = readonly [number, number, number, number] | readonly number[];
type FieldValue<T extends FieldType> = T extends ScalarType ? number : Vec4;

export interface KernelContract<
  P extends Record<string, FieldType> = Record<string, FieldType>,
  B extends string = string,
  C extends string = string,
  V extends string = string,
> {
  /** The kernel's file in shaders/. */
  shader: string;
  /** The `struct Params` fields, in declaration order (absent: the kernel has no uniform). */
  params?: P;
  /** Names of the bindings after the uniform, in binding order. */
  bindings: readonly B[];
  /** Override constants the launcher may set (others keep their defaults in the WGSL). */
  constants?: readonly C[];
  /** Files always compiled in front of the kernel: functions it calls, or the launch loop that calls it. */
  uses?: readonly string[];
  /** Files composed in front of the kernel, by variant name (e.g. how a shared operand is read). */
  variants?: Readonly<Record<V, readonly string[]>>;
}

export interface Launch<P extends Record<string, FieldType>, B extends string, C extends string, V extends string> {
  params?: { [K in keyof P]: FieldValue<P[K]> };
  buffers: Record<B, GPUBuffer | GPUBufferBinding>;
  constants?: Partial<Record<C, number>>;
  variant?: V;
  workgroups: [number, number?, number?];
  /** Names the launch in error messages (defaults to the shader's name). */
  label?: string;
  /** Groups launches in profiles (defaults to the kernel's file). */
  profileLabel?: string;
  /** Unroll the constant loops in the WGSL text on every driver (see engine/unroll.ts). */
  unroll?: boolean;
}

const registry: KernelContract[] = [];

/** Declares a kernel's contract (and registers it for test/contracts.test.ts). */
export function kernel<
  const P extends Record<string, FieldType> = Record<never, FieldType>,
  const B extends string = never,
  const C extends string = never,
  const V extends string = never,
>(contract: KernelContract<P, B, C, V>): KernelContract<P, B, C, V> {
  registry.push(contract as unknown as KernelContract);
  return contract;
}

/** Every contract declared so far (each kernels/ module declares its own when imported). */
export const declaredKernels = (): readonly KernelContract[] => registry;

const ALIGN: Record<FieldType, number> = { u32: 4, i32: 4, f32: 4, 'vec4<u32>': 16, 'vec4<i32>': 16, 'vec4<f32>': 16 };

type Layout = { fields: [string, FieldType, number][]; bytes: number };
/** Each contract's field offsets, worked out once: packing runs on every launch. */
const layouts = new WeakMap<Record<string, FieldType>, Layout>();

function layoutOf(fields: Record<string, FieldType>): Layout {
  let layout = layouts.get(fields);
  if (!layout) {
    let size = 0;
    const at: [string, FieldType, number][] = [];
    for (const [name, type] of Object.entries(fields)) {
      size = Math.ceil(size / ALIGN[type]) * ALIGN[type];
      at.push([name, type, size]);
      size += type.startsWith('vec4') ? 16 : 4;
    }
    layout = { fields: at, bytes: Math.max(16, Math.ceil(size / 16) * 16) };
    layouts.set(fields, layout);
  }
  return layout;
}

/**
 * The uniform's bytes for `values`, laid out as WGSL lays out the struct: scalars on 4 bytes, vec4s on 16, the
 * whole rounded up to 16 bytes.
 */
export function packParams(fields: Record<string, FieldType>, values: Record<string, number | Vec4>, where: string): ArrayBuffer {
  const layout = layoutOf(fields);
  const data = new ArrayBuffer(layout.bytes);
  const view = new DataView(data);
  for (const [name, type, offset] of layout.fields) {
    const v = values[name];
    const parts = typeof v === 'number' ? [v] : v;
    const n = type.startsWith('vec4') ? 4 : 1;
    if (parts === undefined || parts.length !== n) throw new RangeError(`${where}: parameter '${name}' (${type}) is ${JSON.stringify(v)}`);
    parts.forEach((x, i) => {
      if (type.endsWith('f32>') || type === 'f32') view.setFloat32(offset + 4 * i, x, true);
      else if (type.endsWith('i32>') || type === 'i32') view.setInt32(offset + 4 * i, x, true);
      else view.setUint32(offset + 4 * i, x, true);
    });
  }
  if (Object.keys(values).length !== layout.fields.length) {
    for (const name of Object.keys(values)) {
      if (!(name in fields)) throw new RangeError(`${where}: no parameter '${name}' in its contract`);
    }
  }
  return data;
}

/** The files to compile for a launch ('a.wgsl+b.wgsl'): what the kernel uses, the variant's files, the kernel. */
export function shaderFiles(contract: KernelContract, variant?: string): string {
  const front = variant ? contract.variants?.[variant] : undefined;
  if (variant && !front) throw new RangeError(`${contract.shader}: no variant '${variant}'`);
  return [...(contract.uses ?? []), ...(front ?? []), contract.shader].join('+');
}
