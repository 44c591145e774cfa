// dialog.js — small modal forms (<dialog>) for the clinical pages: a
// reason to cancel or decline, a report, a slot to pick. Resolves with the
// values, or null when dismissed.

import { t } from './i18n.js';
import { el } from './format.js';

/**
 * Opens a modal form titled @titleKey. @fields: [{name, key, type:
 * 'textarea'|'select'|'text', required, maxlength, options: [{value, label}],
 * multiple}]; @content: extra nodes (e.g. slot buttons) placed before the
 * fields. @submitKey labels the confirm button. @onOpen(dialog) may wire the
 * content. Resolves with {name: value} (arrays for multiple selects) or null.
 */
export function openDialog({ titleKey, titleParams, textKey, fields = [], content = [], submitKey, danger = false, onOpen }) {
  return new Promise((resolve) => {
    const dialog = el('dialog', { cls: 'modal', attrs: { 'data-testid': 'dialog' } });
    const form = el('form', { attrs: { method: 'dialog', novalidate: '' } });
    const heading = el('h2', { text: t(titleKey, titleParams), attrs: { id: 'dialog-heading' } });
    dialog.setAttribute('aria-labelledby', 'dialog-heading');
    form.append(heading);
    if (textKey) form.append(el('p', { text: t(textKey), cls: 'help' }));
    form.append(...content);
    const inputs = new Map();
    for (const f of fields) {
      const label = el('label');
      label.append(el('span', { text: t(f.key) }));
      let input;
      if (f.type === 'select') {
        input = el('select', { attrs: { name: f.name } });
        input.multiple = !!f.multiple;
        for (const o of f.options ?? []) input.append(new Option(o.label, o.value));
      } else {
        input = el(f.type === 'textarea' ? 'textarea' : 'input', { attrs: { name: f.name } });
        if (f.type === 'textarea') input.rows = 4;
        else input.type = 'text';
        if (f.maxlength) input.maxLength = f.maxlength;
      }
      input.required = !!f.required;
      input.dataset.testid = `dialog-${f.name}`;
      label.append(input);
      form.append(label);
      inputs.set(f.name, input);
    }
    const submit = el('button', { text: t(submitKey), cls: `btn ${danger ? 'danger' : 'primary'}`,
      attrs: { type: 'submit', value: 'ok', 'data-testid': 'dialog-submit' } });
    const cancel = el('button', { text: t('dialog.cancel'), cls: 'btn', attrs: { type: 'button', 'data-testid': 'dialog-cancel' } });
    const actions = el('div', { cls: 'actions' });
    actions.append(submit, cancel);
    form.append(actions);
    dialog.append(form);
    document.body.append(dialog);

    let result = null;
    form.addEventListener('submit', (ev) => {
      if (!form.checkValidity()) {
        ev.preventDefault();
        form.reportValidity();
        return;
      }
      if (dialog.dataset.invalid) {
        // The content (e.g. a slot picker) still needs a choice.
        ev.preventDefault();
        return;
      }
      result = {};
      for (const [name, input] of inputs) {
        result[name] = input.multiple ? [...input.selectedOptions].map((o) => o.value) : input.value.trim();
      }
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    onOpen?.(dialog, inputs);
    dialog.showModal();
    (inputs.values().next().value ?? submit).focus();
  });
}
