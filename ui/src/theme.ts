/** Light, dark, or the system's choice (the default), kept in this browser; applied before the first paint. */
export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'orchard.theme';

export function themeChoice(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

export function setThemeChoice(choice: ThemeChoice): void {
  if (choice === 'system') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme();
}

/** `data-theme` on <html> only when the user chose; otherwise the CSS follows prefers-color-scheme. */
export function applyTheme(): void {
  const choice = themeChoice();
  if (choice === 'system') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = choice;
}
