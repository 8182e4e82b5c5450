// The request bodies our functions accept (zod), one schema per body.
import { z } from 'zod';

export const PaymentRequest = z.union([
  z.object({ order_id: z.uuid() }).strict(),
  z.object({
    purpose: z.literal('wallet_topup'),
    amount: z.number().int().positive(),
    provider: z.enum(['paystack', 'stripe']),
  }).strict(),
]);
export type PaymentRequest = z.infer<typeof PaymentRequest>;

const E164 = z.string().regex(/^\+?\d{8,15}$/, 'phone must be E.164');

/** Auth's Send SMS hook payload (the fields we use). `sms.phone` is where the code goes (the new number of a phone change). */
export const SendSmsHook = z.object({
  user: z.object({ id: z.string().max(64), phone: E164.or(z.literal('')).optional() }).passthrough(),
  sms: z.object({ otp: z.string().min(4).max(10), phone: E164.optional() }).passthrough(),
}).refine((p) => !!(p.sms.phone || p.user.phone), { message: 'sms.phone or user.phone is required', path: ['sms', 'phone'] });

/** Paystack webhook envelope: the event name and its data. */
export const PaystackEvent = z.object({
  event: z.string(),
  data: z.object({ id: z.union([z.number(), z.string()]).optional(), reference: z.string().optional() }).passthrough(),
});

/** What starts a notify run: the deliveries just queued (the after-commit call), or any due ones (the sweep). */
export const NotifyRequest = z.object({
  delivery_ids: z.array(z.uuid()).min(1).max(500).optional(),
  limit: z.number().int().min(1).max(500).optional(),
}).strict();
export type NotifyRequest = z.infer<typeof NotifyRequest>;

/** The reconcile function's body: the pg_cron job sends `{}`. */
export const ReconcileRequest = z.object({ limit: z.number().int().min(1).max(500).optional() }).strict();

/** The payouts function: bank list, account resolution and saving, sending payouts. */
const BankAccount = {
  bank_code: z.string().regex(/^[0-9A-Za-z]{2,12}$/, 'bank_code is a Paystack bank code'),
  account_number: z.string().regex(/^[0-9]{10}$/, 'account_number is a 10-digit NUBAN'),
};
export const PayoutRequest = z.discriminatedUnion('action', [
  z.object({ action: z.literal('list_banks') }).strict(),
  z.object({ action: z.literal('resolve_account'), ...BankAccount }).strict(),
  z.object({ action: z.literal('save_account'), ...BankAccount }).strict(),
  z.object({ action: z.literal('send'), payout_id: z.uuid().optional() }).strict(),
]);
export type PayoutRequest = z.infer<typeof PayoutRequest>;
