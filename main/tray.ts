import { Menu, nativeImage, Tray, type NativeImage } from 'electron';

interface AppRow {
  id: string;
  name: string;
  service: { state: string };
}

const POLL_MS = 5000;

/**
 * A tray menu listing the apps whose service runs, refreshed by polling the local API (the same
 * API the UI uses, with the same token). Clicking an app shows its page.
 */
export function createTray(o: { origin: string; token: string; show: (hash?: string) => void; quit: () => void }): { destroy(): void } {
  const tray = new Tray(trayIcon());
  tray.setToolTip('Orchard');
  let lastMenu = '';
  const render = (apps: AppRow[], problem?: string): void => {
    const running = apps.filter((a) => a.service.state !== 'stopped');
    const key = JSON.stringify([running.map((a) => [a.id, a.service.state]), problem]);
    if (key === lastMenu) return;
    lastMenu = key;
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open Orchard', click: () => o.show() },
        { type: 'separator' },
        ...(problem
          ? [{ label: problem, enabled: false }]
          : running.length === 0
            ? [{ label: 'No app is running', enabled: false }]
            : running.map((a) => ({
                label: `${a.name} — ${a.service.state}`,
                click: () => o.show(`#/apps/${encodeURIComponent(a.id)}`),
              }))),
        { type: 'separator' },
        { label: 'Quit Orchard', click: o.quit },
      ]),
    );
  };
  const poll = async (): Promise<void> => {
    try {
      const response = await fetch(`${o.origin}/api/v1/apps`, {
        headers: { Authorization: `Bearer ${o.token}` },
        signal: AbortSignal.timeout(4000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { apps?: AppRow[] };
      render(body.apps ?? []);
    } catch {
      render([], 'Orchard engine not answering');
    }
  };
  render([]);
  void poll();
  const timer = setInterval(() => void poll(), POLL_MS);
  tray.on('click', () => o.show());
  return {
    destroy() {
      clearInterval(timer);
      tray.destroy();
    },
  };
}

/** A 16×16 green dot drawn in memory, so the shell ships no image files. */
function trayIcon(): NativeImage {
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - 7.5, y - 7.5);
      const alpha = d <= 6 ? 255 : d <= 7 ? Math.round(255 * (7 - d)) : 0;
      const i = (y * size + x) * 4;
      // BGRA
      pixels[i] = 0x4f;
      pixels[i + 1] = 0x7d;
      pixels[i + 2] = 0x2f;
      pixels[i + 3] = alpha;
    }
  }
  return nativeImage.createFromBitmap(pixels, { width: size, height: size });
}
