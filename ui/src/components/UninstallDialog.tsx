import { useState } from 'react';
import type { Job } from '../../../engine/api/api-types.js';
import { api } from '../api/client.js';
import { useApiMutation } from '../hooks/useApiMutation.js';
import { ErrorBox } from './ErrorBox.js';
import { Modal } from './Modal.js';

/** Uninstall asks whether to keep the downloaded models; keeping them is the default. */
export function UninstallDialog({
  appId,
  name,
  onStarted,
  onClose,
}: {
  appId: string;
  name: string;
  onStarted: (job: Job) => void;
  onClose: () => void;
}) {
  const [purgeModels, setPurgeModels] = useState(false);
  const uninstall = useApiMutation(
    (purge: boolean) => api('POST /apps/:id/uninstall', { params: { id: appId }, body: { purgeModels: purge } }),
    ['/apps', '/jobs'],
  );
  const confirm = async () => {
    const started = await uninstall.run(purgeModels);
    if (!started) return;
    onStarted(started.job);
    onClose();
  };
  return (
    <Modal title={`Uninstall ${name}?`} onClose={onClose}>
      <p>
        This removes the app's folder, environment and logs. What the app made (its outputs/ folder) is kept: it moves to outputs/ in
        Orchard's folder.
      </p>
      <fieldset className="radio-group">
        <legend>Downloaded models</legend>
        <label>
          <input type="radio" name="models" checked={!purgeModels} onChange={() => setPurgeModels(false)} /> Keep them in the model store
          (other apps and a reinstall reuse them)
        </label>
        <label>
          <input type="radio" name="models" checked={purgeModels} onChange={() => setPurgeModels(true)} /> Delete them too (when no other
          app uses them)
        </label>
      </fieldset>
      <ErrorBox error={uninstall.error} />
      <div className="modal-actions">
        <button type="button" className="secondary" onClick={onClose} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" disabled={uninstall.busy} onClick={() => void confirm()}>
          Uninstall
        </button>
      </div>
    </Modal>
  );
}
