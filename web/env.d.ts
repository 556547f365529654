// The .wgsl files of shaders/, by file name, as the bundle carries them (scripts/build-web.ts makes this module).
declare module 'virtual:dgkd-shaders' {
  const shaders: Record<string, string>;
  export default shaders;
}
