/**
 * The model store's public surface (DESIGN §3): blobs, references, gc, links. The downloader that
 * fills it is the package store/download/ (its own index.ts).
 */
export {
  blobPath,
  checkBlob,
  commitBlob,
  findBlob,
  findVerifiedBlob,
  listBlobs,
  sha256OfFile,
  type BlobInfo,
  type BlobRecord,
  type BlobSource,
} from './blob-store.js';
export { diskMargin, formatBytes, preflightDiskSpace, statfsFreeSpace, type FreeSpaceSource } from './disk-space.js';
export { purgeUnreferencedBlobs, storeReport, verifyBlobs, type BlobCheck, type StoredBlobReport } from './gc.js';
export { linkBlob, type LinkMethod } from './link-blob.js';
export { appWeightRefs, collectReferences, type BlobReference, type WeightRef } from './references.js';
export { storeBarrier, storeLockFile, withStoreLock } from './store-lock.js';
