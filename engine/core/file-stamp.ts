/** A UTC time for file names: 20261123T153951Z (sorts by time, no characters a file system refuses). */
export function fileStamp(at: Date = new Date()): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
