// Shareable links: manifest, seed, actions and t in the URL hash (#lab=...).
// Large payloads are compressed with CompressionStream("deflate-raw"); small ones are plain.
// Format: "z" + base64url(deflate-raw(json)) or "p" + base64url(utf-8 json).

const PREFIX = "#lab=";
const COMPRESS_OVER = 160;
// The most a link may hold once decoded: the server refuses a lab.restore over its message
// limit (96 KiB) anyway, and a few kilobytes of deflate can inflate to gigabytes (a link
// that would take the tab's memory) — decoding stops here.
export const MAX_DECODED_BYTES = 96 * 1024;
// Seeds the server takes (0 <= seed < 2**31).
const MAX_SEED = 2 ** 31;

function toBase64Url(bytes) {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "===".slice((b64.length + 3) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function pipe(bytes, stream) {
  const response = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await response.arrayBuffer());
}

/** Inflate a "z" link's bytes, refusing more than ``limit`` bytes of output as it goes. */
async function inflate(bytes, limit) {
  const reader = new Blob([bytes]).stream()
    .pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new Error("lab link too large");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Encode a lab ({manifest, seed, actions, t}) as a URL hash. */
export async function encodeLab(lab) {
  const json = JSON.stringify({
    m: lab.manifest,
    s: lab.seed || 0,
    a: lab.actions || [],
    t: Math.round((lab.t || 0) * 1000) / 1000,
  });
  const bytes = new TextEncoder().encode(json);
  if (bytes.length > COMPRESS_OVER && typeof CompressionStream === "function") {
    try {
      const packed = await pipe(bytes, new CompressionStream("deflate-raw"));
      return PREFIX + "z" + toBase64Url(packed);
    } catch (err) {
      // Fall through to the plain form.
    }
  }
  return PREFIX + "p" + toBase64Url(bytes);
}

/** True when the hash holds a lab. */
export function hasLab(hash) {
  return typeof hash === "string" && hash.startsWith(PREFIX);
}

/** Decode a hash made by encodeLab; throws on anything else. */
export async function decodeLab(hash) {
  if (!hasLab(hash)) throw new Error("not a lab link");
  const body = hash.slice(PREFIX.length);
  const kind = body[0];
  if (kind !== "z" && kind !== "p") throw new Error("unknown lab link format");
  // base64 holds 3 bytes in 4 characters: a plain link this long decodes past the limit
  if (kind === "p" && body.length > 1 + Math.ceil(MAX_DECODED_BYTES / 3) * 4) {
    throw new Error("lab link too large");
  }
  let bytes = fromBase64Url(body.slice(1));
  if (kind === "z") bytes = await inflate(bytes, MAX_DECODED_BYTES);
  const data = JSON.parse(new TextDecoder().decode(bytes));
  if (!data || typeof data.m !== "string") throw new Error("lab link without a manifest");
  const seed = Number.isInteger(data.s) && data.s >= 0 && data.s < MAX_SEED ? data.s : 0;
  const actions = Array.isArray(data.a)
    ? data.a.filter((a) => a && typeof a === "object" && typeof a.action === "string")
    : [];
  const t = typeof data.t === "number" && data.t >= 0 ? data.t : 0;
  return { manifest: data.m, seed, actions, t };
}
