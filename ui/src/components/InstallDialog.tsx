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
export function InstallDialog({
  appId,
  recipe,
  operation,
  allowCpu = false,
  onStarted,
  onClose,
}: {
  appId: string;
  recipe: string;
  operation: 'install' | 'update';
  /** "Install anyway (runs on CPU, slow)": accept the GPU-on-CPU blocker, as `--allow-cpu` does. */
  allowCpu?: boolean;
  onStarted: (job: Job) => void;
  onClose: () => void;
}) {
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
      const body: InstallRequest =
        operation === 'install' ? { recipe, inputs, ...(allowCpu ? { allowCpu } : {}) } : { inputs, ...(allowCpu ? { allowCpu } : {}) };
      const { job } = await api(`POST /apps/:id/${operation}`, { params: { id: appId }, body });
      onStarted(job);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const blockers = plan ? plan.blockers.filter((b) => !(allowCpu && b === plan.allowCpuAccepts)) : [];
  const blocked = !plan || blockers.length > 0;
  const cpuAccepted = allowCpu && plan?.allowCpuAccepts !== undefined;
  return (
    <Modal title={`${operation === 'install' ? 'Install' : 'Update'} ${plan?.recipe.name ?? appId}: the plan`} onClose={onClose} wide>
      {plan && <InputsForm specs={plan.inputSpecs} needs={plan.choiceNeeds} values={inputs} onChange={setInputs} />}
      <ErrorBox error={error} />
      {cpuAccepted && (
        <div className="warn-box cpu-cost" role="note">
          <strong>This runs on the CPU.</strong> The recipe expects a GPU ({plan.requirements.accelerators.join(' or ')}); without one,
          every generation is many times slower (minutes where a GPU takes seconds) and uses all CPU cores while it works. The backend check
          will report the CPU fallback, marked as accepted.
        </div>
      )}
      {plan ? (
        <PlanSummary plan={plan} {...(cpuAccepted ? { accepted: plan.allowCpuAccepts } : {})} />
      ) : (
        !error && <p className="muted">Planning…</p>
      )}
      <div className="modal-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={blocked || busy} onClick={() => void confirm()} autoFocus>
          {operation === 'install' ? (cpuAccepted ? 'Install on CPU' : 'Install') : 'Update'}
        </button>
      </div>
    </Modal>
  );
}
