// Fake SMS providers on one server, each speaking its documented API:
// Termii (POST /api/sms/send, JSON with api_key), Twilio (POST
// /2010-04-01/Accounts/{sid}/Messages.json, form body, Basic auth) and
// Africa's Talking (POST /version1/messaging, form body, apiKey header).
import { randomUUID } from 'node:crypto';
import { sendJson, startFake, type FakeServer } from './recorder.ts';

export interface SmsCredentials {
  termiiApiKey: string;
  twilioAccountSid: string;
  twilioAuthToken: string;
  africasTalkingUsername: string;
  africasTalkingApiKey: string;
}

export function startFakeSms(creds: SmsCredentials, port = 0): Promise<FakeServer> {
  return startFake('SMS provider', (req, res, body, url) => {
    if (req.method !== 'POST') return false;

    if (url.pathname === '/api/sms/send') {
      const msg = JSON.parse(body || '{}');
      if (msg.api_key !== creds.termiiApiKey) {
        sendJson(res, 401, { message: 'Invalid API key' });
      } else if (!msg.to || !msg.sms || !msg.from || !msg.channel || msg.type !== 'plain') {
        sendJson(res, 400, { message: 'to, from, sms, type and channel are required' });
      } else {
        sendJson(res, 200, { code: 'ok', message_id: randomUUID(), message: 'Successfully Sent', balance: 1000, user: 'Rambini' });
      }
      return true;
    }

    const twilio = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    if (twilio) {
      const expected = 'Basic ' + Buffer.from(`${creds.twilioAccountSid}:${creds.twilioAuthToken}`).toString('base64');
      const form = new URLSearchParams(body);
      if (twilio[1] !== creds.twilioAccountSid || req.headers.authorization !== expected) {
        sendJson(res, 401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      } else if (!form.get('To')?.startsWith('+') || !form.get('Body') || !(form.get('From') || form.get('MessagingServiceSid'))) {
        sendJson(res, 400, { code: 21604, message: "A 'To' phone number is required.", more_info: 'https://www.twilio.com/docs/errors/21604', status: 400 });
      } else {
        sendJson(res, 201, { sid: `SM${randomUUID().replace(/-/g, '')}`, account_sid: creds.twilioAccountSid, to: form.get('To'), from: form.get('From'), body: form.get('Body'), status: 'queued' });
      }
      return true;
    }

    if (url.pathname === '/version1/messaging') {
      const form = new URLSearchParams(body);
      if (req.headers.apikey !== creds.africasTalkingApiKey || form.get('username') !== creds.africasTalkingUsername) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('The supplied authentication is invalid');
      } else if (req.headers.accept !== 'application/json') {
        res.writeHead(406, { 'content-type': 'text/plain' });
        res.end('Request must accept application/json');
      } else {
        const to = form.get('to') ?? '';
        const valid = /^\+\d{8,15}$/.test(to);
        sendJson(res, 201, {
          SMSMessageData: {
            Message: valid ? 'Sent to 1/1 Total Cost: NGN 2.2000' : 'Sent to 0/1 Total Cost: 0',
            Recipients: [valid
              ? { statusCode: 101, number: to, status: 'Success', cost: 'NGN 2.2000', messageId: `ATXid_${randomUUID()}` }
              : { statusCode: 403, number: to, status: 'InvalidPhoneNumber', cost: '0', messageId: 'None' }],
          },
        });
      }
      return true;
    }
    return false;
  }, port);
}
