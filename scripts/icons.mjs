// Draws the Mail Health icon (an envelope with a green check) as PNGs for the WHM AppConfig, the cPanel plugin and
// the Plesk extension's _meta/icons. Plain Node (zlib), no image libraries: `node scripts/icons.mjs`.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { crc32 } from './zip.mjs';

function png(size) {
  const px = Buffer.alloc(size * (size * 4 + 1));
  const s = size / 48;
  const set = (x, y, [r, g, b, a]) => {
    const o = y * (size * 4 + 1) + 1 + x * 4;
    px[o] = r; px[o + 1] = g; px[o + 2] = b; px[o + 3] = a;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const X = x / s, Y = y / s;
      let c = [0, 0, 0, 0];
      if (X >= 4 && X <= 44 && Y >= 10 && Y <= 38) c = [31, 111, 235, 255];
      // envelope flap: |Y - 13 - 13*(1 - |X-24|/18)| small
      const flap = 13 + 13 * (1 - Math.abs(X - 24) / 18);
      if (X >= 6 && X <= 42 && Math.abs(Y - flap) < 1.6) c = [255, 255, 255, 255];
      const d = Math.hypot(X - 38, Y - 36);
      if (d <= 9) c = [45, 164, 78, 255];
      const onCheck = (X >= 33.5 && X <= 36.5 && Math.abs(Y - (36 + (X - 33.5))) < 1.4) || (X >= 36.5 && X <= 42.5 && Math.abs(Y - (39 - (X - 36.5))) < 1.4);
      if (d <= 9 && onCheck) c = [255, 255, 255, 255];
      set(x, y, c);
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(px)), chunk('IEND', Buffer.alloc(0))]);
}

const root = new URL('../plugin-manifests/', import.meta.url);
writeFileSync(new URL('whm/mailhealth.png', root), png(48));
writeFileSync(new URL('cpanel/mailhealth.png', root), png(48));
for (const n of [32, 64, 128]) writeFileSync(new URL(`plesk/_meta/icons/${n}x${n}.png`, root), png(n));
writeFileSync(new URL('plesk/htdocs/icon.png', root), png(32));
