/** The backups page's labels (kept out of i18n.ts so that file stays a readable size). */
export const en = {
  title: 'Backups',
  size: 'Size',
  schema: 'Schema',
  verified: 'Verified',
  restoreTime: 'Restore took {{seconds}} s',
  notVerified: 'not verified',
  failed: 'verification failed',
  create: 'Back up now',
  verify: 'Verify the newest',
  prune: 'Prune old backups',
  help: 'Backups run as jobs in the worker; restoring is a command (see the disaster-recovery runbook).',
};

export const pt: typeof en = {
  title: 'Backups',
  size: 'Tamanho',
  schema: 'Esquema',
  verified: 'Verificado',
  restoreTime: 'Restauração levou {{seconds}} s',
  notVerified: 'não verificado',
  failed: 'verificação falhou',
  create: 'Fazer backup agora',
  verify: 'Verificar o mais novo',
  prune: 'Remover backups antigos',
  help: 'Backups rodam como tarefas no worker; restaurar é um comando (veja o runbook de recuperação de desastres).',
};
