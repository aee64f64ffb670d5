import { screen, type BrowserWindow } from 'electron';
import type Store from 'electron-store';
import type { ShellSettings } from './shell-store.js';

/** Restore the window where it was, if that place is still on a screen. */
export function restoredBounds(store: Store<ShellSettings>): { x?: number; y?: number; width: number; height: number } {
  const saved = store.get('window');
  const visible =
    saved.x !== undefined &&
    saved.y !== undefined &&
    screen
      .getAllDisplays()
      .some(
        (d) =>
          saved.x! >= d.workArea.x - 50 &&
          saved.y! >= d.workArea.y - 50 &&
          saved.x! < d.workArea.x + d.workArea.width &&
          saved.y! < d.workArea.y + d.workArea.height,
      );
  const size = { width: Math.max(900, saved.width), height: Math.max(600, saved.height) };
  return visible ? { ...size, x: saved.x!, y: saved.y! } : size;
}

export function rememberBounds(win: BrowserWindow, store: Store<ShellSettings>): void {
  const save = (): void => {
    if (win.isDestroyed() || win.isMinimized()) return;
    const maximized = win.isMaximized();
    const bounds = maximized ? store.get('window') : { ...win.getBounds(), maximized };
    store.set('window', { ...bounds, maximized });
  };
  win.on('resize', save);
  win.on('move', save);
  win.on('close', save);
}
