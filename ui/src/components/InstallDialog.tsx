import { useEffect, useState } from 'react';
import type { InstallRequest, Job, PlanRequest, PlanResponse } from '../../../engine/api/api-types.js';
import { api } from '../api/client.js';
import { ErrorBox } from './ErrorBox.js';
import { InputsForm } from './InputsForm.js';
import { Modal } from './Modal.js';
import { PlanSummary } from './PlanSummary.js';

/**
 * Install confirmation: the plan for this machine (files and sizes, commands, hosts, warnings),
 * re-planned when an input changes; Install starts the job only after the user has seen it.
 */
export function InstallDialog({ appId, recipe, operation, onStarted, onClose }: { appId: string; recipe: string; operation: 'install' | 'update'; onStarted: (job: Job) => void; onClose: () => void }) {
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [plan, setPlan] = useState<PlanResponse>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    const request: PlanRequest = { recipe, inputs };
    api('POST /plan', { body: request, signal: controller.signal })
      .then((p) => {
        setPlan(p);
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (!(err instanceof DOMException)) setError(err);
      });
    return () => controller.abort();
  }, [recipe, inputs]);

  const confirm = async () => {
    setBusy(true);
    try {
      const body: InstallRequest = operation === 'install' ? { recipe, inputs } : { inputs };
      const { job } = await api(`POST /apps/:id/${operation}`, { params: { id: appId }, body });
      onStarted(job);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const blocked = !plan || plan.blockers.length > 0;
  return (
    <Modal title={`${operation === 'install' ? 'Install' : 'Update'} ${plan?.recipe.name ?? appId}: the plan`} onClose={onClose} wide>
      {plan && <InputsForm specs={plan.inputSpecs} values={inputs} onChange={setInputs} />}
      <ErrorBox error={error} />
      {plan ? <PlanSummary plan={plan} /> : !error && <p className="muted">Planning…</p>}
      <div className="modal-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={blocked || busy} onClick={() => void confirm()} autoFocus>
          {operation === 'install' ? 'Install' : 'Update'}
        </button>
      </div>
    </Modal>
  );
}
