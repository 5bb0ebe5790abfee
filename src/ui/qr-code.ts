// The authenticator-app QR code on the enrolment page. The qrcode library hands over an SVG string; rather
// than trust a string as markup, its geometry (size, colours, path commands) is read with a strict
// pattern and drawn again through the escaping `html` tag, so nothing but that geometry can reach the page.
import { html, type SafeHtml } from './html.js';

/** The exact shape of `QRCode.toString(…, { type: 'svg' })`: a background path and the modules' path. */
const QR_SVG = /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d{1,4}) \1" shape-rendering="crispEdges"><path fill="(#[0-9a-f]{6})" d="([0-9MHVhvz ]+)"\/><path stroke="(#[0-9a-f]{6})" d="([0-9Mmh. ]+)"\/><\/svg>\n?$/;

/** Throws when the SVG is not the qrcode library's (a programming error: the library changed its output). */
export function qrCodeSvg(svg: string): SafeHtml {
  const parts = QR_SVG.exec(svg);
  if (!parts) throw new Error('qr-code: unexpected SVG from the qrcode library');
  const [, size, background, backgroundPath, foreground, modules] = parts;
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges"><path fill="${background}" d="${backgroundPath}"/><path stroke="${foreground}" d="${modules}"/></svg>
`;
}
