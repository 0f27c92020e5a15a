#!/usr/bin/env node
/**
 * Draws the extension icon, assets/icon.png (512×512 RGBA): one source node routed to three
 * models, white on an indigo-to-cyan rounded square. Plain signed-distance shapes, antialiased
 * by coverage, encoded as PNG with node:zlib; no image library. Deterministic: the same bytes on
 * every run (test/mcpb.test.ts redraws it and compares).
 *
 *   node scripts/make-icon.mjs [out.png]
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

export const SIZE = 512;

const clamp01 = (v) => Math.min(1, Math.max(0, v));

/** Distance from (px, py) to the segment a–b. */
function segmentDistance(px, py, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = clamp01(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Signed distance to a rounded square covering the canvas with corner radius r (negative inside). */
function roundedSquare(px, py, r) {
  const half = SIZE / 2;
  const qx = Math.abs(px - half) - (half - r);
  const qy = Math.abs(py - half) - (half - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/** A cubic Bézier from (x0, y0) to (x1, y1) leaving and arriving horizontally, as a polyline. */
function curve(x0, y0, x1, y1, steps = 32) {
  const mx = (x0 + x1) / 2;
  const points = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    points.push([u * u * u * x0 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x1, u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1]);
  }
  return points;
}

const SOURCE = { x: 140, y: 256, r: 46 };
const TARGETS = [150, 256, 362].map((y) => ({ x: 384, y, r: 36 }));
const LINKS = TARGETS.map((t) => curve(SOURCE.x, SOURCE.y, t.x, t.y));
const STROKE = 11; // half width

/** Coverage (0..1) of the white glyph at a pixel centre. */
function glyph(px, py) {
  let d = Math.hypot(px - SOURCE.x, py - SOURCE.y) - SOURCE.r;
  for (const t of TARGETS) d = Math.min(d, Math.hypot(px - t.x, py - t.y) - t.r);
  for (const line of LINKS) {
    for (let i = 1; i < line.length; i++) {
      const [ax, ay] = line[i - 1];
      const [bx, by] = line[i];
      d = Math.min(d, segmentDistance(px, py, ax, ay, bx, by) - STROKE);
    }
  }
  return clamp01(0.5 - d);
}

export function drawIcon() {
  const from = [79, 70, 229]; // indigo
  const to = [6, 182, 212]; // cyan
  const rows = [];
  for (let y = 0; y < SIZE; y++) {
    const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0 (none), then RGBA
    for (let x = 0; x < SIZE; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const t = clamp01((px + py) / (2 * SIZE));
      const inside = clamp01(0.5 - roundedSquare(px, py, 112));
      const white = glyph(px, py);
      const o = 1 + x * 4;
      for (let c = 0; c < 3; c++) {
        const bg = from[c] + (to[c] - from[c]) * t;
        row[o + c] = Math.round(bg + (255 - bg) * white);
      }
      row[o + 3] = Math.round(255 * inside);
    }
    rows.push(row);
  }
  return encodePng(SIZE, SIZE, Buffer.concat(rows));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function encodePng(width, height, raw) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'assets', 'icon.png');
  writeFileSync(out, drawIcon());
  process.stderr.write(`make-icon: wrote ${out}\n`);
}
