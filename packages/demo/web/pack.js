// Reads the data packs that src/web-data.js makes at build time: gunzips them (unless
// the server already did) and views the arrays in place, without copying.
const TYPES = { uint8: Uint8Array, int32: Int32Array, float32: Float32Array };

/** Fetches a pack → { meta, arrays: { name: TypedArray } }. */
export async function fetchPack(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const start = 4 + Math.ceil(length / 4) * 4;
  const arrays = {};
  for (const [name, { dtype, offset, length: n }] of Object.entries(header.arrays)) {
    arrays[name] = new TYPES[dtype](bytes.buffer, bytes.byteOffset + start + offset, n);
  }
  return { meta: header.meta, arrays };
}
