import { safeStorage } from 'electron';
import type Store from 'electron-store';
import type { ShellSettings } from './shell-store.js';

/**
 * The Hugging Face token lives encrypted with the OS keychain (safeStorage); the engine gets it
 * as HF_TOKEN in its environment when the shell starts it, so it is never written in plain text.
 */
export function readHfToken(store: Store<ShellSettings>): string | undefined {
  const encrypted = store.get('hfTokenEncrypted');
  if (!encrypted || !safeStorage.isEncryptionAvailable()) return undefined;
  try {
    return safeStorage.decryptString(Buffer.from(encrypted, 'base64'));
  } catch {
    // A keychain change made it unreadable: forget it rather than fail every start.
    store.delete('hfTokenEncrypted');
    return undefined;
  }
}

export function writeHfToken(store: Store<ShellSettings>, token: string | null): { ok: boolean; message: string } {
  if (token === null || token.trim() === '') {
    store.delete('hfTokenEncrypted');
    return { ok: true, message: 'Hugging Face token removed from the system keychain. It stops being used when Orchard restarts.' };
  }
  if (!/^[\x21-\x7e]{8,200}$/.test(token))
    return { ok: false, message: 'That does not look like a Hugging Face token (printable characters, no spaces).' };
  if (!safeStorage.isEncryptionAvailable()) {
    return { ok: false, message: 'The system keychain is not available, so the token cannot be stored safely here.' };
  }
  store.set('hfTokenEncrypted', safeStorage.encryptString(token).toString('base64'));
  return { ok: true, message: 'Hugging Face token stored in the system keychain. It is used from the next start of Orchard.' };
}
