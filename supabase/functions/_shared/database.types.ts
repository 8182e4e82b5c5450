export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      addresses: {
        Row: {
          city: string
          country: string
          created_at: string
          id: string
          instructions: string | null
          is_default: boolean
          label: string
          lat: number
          line1: string
          lng: number
          state: string | null
          updated_at: string
          user_id: string
        }
        Insert: {
          city: string
          country?: string
          created_at?: string
          id?: string
          instructions?: string | null
          is_default?: boolean
          label: string
          lat: number
          line1: string
          lng: number
          state?: string | null
          updated_at?: string
          user_id?: string
        }
        Update: {
          city?: string
          country?: string
          created_at?: string
          id?: string
          instructions?: string | null
          is_default?: boolean
          label?: string
          lat?: number
          line1?: string
          lng?: number
          state?: string | null
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "addresses_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      coupon_redemptions: {
        Row: {
          coupon_id: string
          created_at: string
          customer_id: string
          discount: number
          id: string
          order_id: string
          released_at: string | null
        }
        Insert: {
          coupon_id: string
          created_at?: string
          customer_id: string
          discount: number
          id?: string
          order_id: string
          released_at?: string | null
        }
        Update: {
          coupon_id?: string
          created_at?: string
          customer_id?: string
          discount?: number
          id?: string
          order_id?: string
          released_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "coupon_redemptions_coupon_id_fkey"
            columns: ["coupon_id"]
            isOneToOne: false
            referencedRelation: "coupons"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "coupon_redemptions_customer_id_fkey"
            columns: ["customer_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "coupon_redemptions_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: true
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
        ]
      }
      coupons: {
        Row: {
          code: string
          created_at: string
          ends_at: string | null
          funded_by: string
          id: string
          is_active: boolean
          kind: string
          max_discount: number | null
          max_redemptions: number | null
          min_subtotal: number
          per_customer_limit: number | null
          starts_at: string
          value: number
          vendor_id: string | null
        }
        Insert: {
          code: string
          created_at?: string
          ends_at?: string | null
          funded_by?: string
          id?: string
          is_active?: boolean
          kind: string
          max_discount?: number | null
          max_redemptions?: number | null
          min_subtotal?: number
          per_customer_limit?: number | null
          starts_at?: string
          value?: number
          vendor_id?: string | null
        }
        Update: {
          code?: string
          created_at?: string
          ends_at?: string | null
          funded_by?: string
          id?: string
          is_active?: boolean
          kind?: string
          max_discount?: number | null
          max_redemptions?: number | null
          min_subtotal?: number
          per_customer_limit?: number | null
          starts_at?: string
          value?: number
          vendor_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "coupons_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      device_tokens: {
        Row: {
          active: boolean
          created_at: string
          deactivated_at: string | null
          deactivated_reason: string | null
          id: string
          last_seen_at: string
          platform: string
          token: string
          user_id: string
        }
        Insert: {
          active?: boolean
          created_at?: string
          deactivated_at?: string | null
          deactivated_reason?: string | null
          id?: string
          last_seen_at?: string
          platform: string
          token: string
          user_id?: string
        }
        Update: {
          active?: boolean
          created_at?: string
          deactivated_at?: string | null
          deactivated_reason?: string | null
          id?: string
          last_seen_at?: string
          platform?: string
          token?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "device_tokens_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      favourite_vendors: {
        Row: {
          created_at: string
          user_id: string
          vendor_id: string
        }
        Insert: {
          created_at?: string
          user_id?: string
          vendor_id: string
        }
        Update: {
          created_at?: string
          user_id?: string
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "favourite_vendors_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "favourite_vendors_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      menu_categories: {
        Row: {
          created_at: string
          id: string
          name: string
          sort_order: number
          vendor_id: string
        }
        Insert: {
          created_at?: string
          id?: string
          name: string
          sort_order?: number
          vendor_id: string
        }
        Update: {
          created_at?: string
          id?: string
          name?: string
          sort_order?: number
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "menu_categories_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      menu_items: {
        Row: {
          category_id: string | null
          created_at: string
          description: string | null
          id: string
          image_url: string | null
          is_available: boolean
          name: string
          price: number
          sort_order: number
          stock: number | null
          updated_at: string
          vendor_id: string
        }
        Insert: {
          category_id?: string | null
          created_at?: string
          description?: string | null
          id?: string
          image_url?: string | null
          is_available?: boolean
          name: string
          price: number
          sort_order?: number
          stock?: number | null
          updated_at?: string
          vendor_id: string
        }
        Update: {
          category_id?: string | null
          created_at?: string
          description?: string | null
          id?: string
          image_url?: string | null
          is_available?: boolean
          name?: string
          price?: number
          sort_order?: number
          stock?: number | null
          updated_at?: string
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "menu_items_category_id_vendor_id_fkey"
            columns: ["category_id", "vendor_id"]
            isOneToOne: false
            referencedRelation: "menu_categories"
            referencedColumns: ["id", "vendor_id"]
          },
          {
            foreignKeyName: "menu_items_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      modifier_groups: {
        Row: {
          created_at: string
          id: string
          max_select: number
          menu_item_id: string
          min_select: number
          name: string
          sort_order: number
          vendor_id: string
        }
        Insert: {
          created_at?: string
          id?: string
          max_select?: number
          menu_item_id: string
          min_select?: number
          name: string
          sort_order?: number
          vendor_id: string
        }
        Update: {
          created_at?: string
          id?: string
          max_select?: number
          menu_item_id?: string
          min_select?: number
          name?: string
          sort_order?: number
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "modifier_groups_menu_item_id_vendor_id_fkey"
            columns: ["menu_item_id", "vendor_id"]
            isOneToOne: false
            referencedRelation: "menu_items"
            referencedColumns: ["id", "vendor_id"]
          },
          {
            foreignKeyName: "modifier_groups_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      modifiers: {
        Row: {
          created_at: string
          group_id: string
          id: string
          is_available: boolean
          name: string
          price_delta: number
          sort_order: number
          vendor_id: string
        }
        Insert: {
          created_at?: string
          group_id: string
          id?: string
          is_available?: boolean
          name: string
          price_delta?: number
          sort_order?: number
          vendor_id: string
        }
        Update: {
          created_at?: string
          group_id?: string
          id?: string
          is_available?: boolean
          name?: string
          price_delta?: number
          sort_order?: number
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "modifiers_group_id_vendor_id_fkey"
            columns: ["group_id", "vendor_id"]
            isOneToOne: false
            referencedRelation: "modifier_groups"
            referencedColumns: ["id", "vendor_id"]
          },
          {
            foreignKeyName: "modifiers_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      notification_deliveries: {
        Row: {
          attempts: number
          channel: string
          claim_id: string | null
          claimed_until: string | null
          created_at: string
          id: string
          last_error: string | null
          next_attempt_at: string
          notification_id: string
          provider_message_id: string | null
          sent_at: string | null
          status: string
          updated_at: string
          user_id: string
        }
        Insert: {
          attempts?: number
          channel: string
          claim_id?: string | null
          claimed_until?: string | null
          created_at?: string
          id?: string
          last_error?: string | null
          next_attempt_at?: string
          notification_id: string
          provider_message_id?: string | null
          sent_at?: string | null
          status?: string
          updated_at?: string
          user_id: string
        }
        Update: {
          attempts?: number
          channel?: string
          claim_id?: string | null
          claimed_until?: string | null
          created_at?: string
          id?: string
          last_error?: string | null
          next_attempt_at?: string
          notification_id?: string
          provider_message_id?: string | null
          sent_at?: string | null
          status?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "notification_deliveries_notification_id_fkey"
            columns: ["notification_id"]
            isOneToOne: false
            referencedRelation: "notifications"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "notification_deliveries_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      notification_preferences: {
        Row: {
          announcements: boolean
          email_enabled: boolean
          order_updates: boolean
          push_enabled: boolean
          sms_enabled: boolean
          updated_at: string
          user_id: string
        }
        Insert: {
          announcements?: boolean
          email_enabled?: boolean
          order_updates?: boolean
          push_enabled?: boolean
          sms_enabled?: boolean
          updated_at?: string
          user_id?: string
        }
        Update: {
          announcements?: boolean
          email_enabled?: boolean
          order_updates?: boolean
          push_enabled?: boolean
          sms_enabled?: boolean
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "notification_preferences_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      notification_type_preferences: {
        Row: {
          channel: string
          enabled: boolean
          type: string
          updated_at: string
          user_id: string
        }
        Insert: {
          channel: string
          enabled: boolean
          type: string
          updated_at?: string
          user_id?: string
        }
        Update: {
          channel?: string
          enabled?: boolean
          type?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "notification_type_preferences_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      notifications: {
        Row: {
          body: string
          created_at: string
          data: NonNullable<Json>
          delivery_attempts: number
          delivery_status: string
          id: string
          order_id: string | null
          read_at: string | null
          title: string
          type: string
          user_id: string
        }
        Insert: {
          body: string
          created_at?: string
          data?: NonNullable<Json>
          delivery_attempts?: number
          delivery_status?: string
          id?: string
          order_id?: string | null
          read_at?: string | null
          title: string
          type: string
          user_id: string
        }
        Update: {
          body?: string
          created_at?: string
          data?: NonNullable<Json>
          delivery_attempts?: number
          delivery_status?: string
          id?: string
          order_id?: string | null
          read_at?: string | null
          title?: string
          type?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "notifications_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "notifications_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      order_events: {
        Row: {
          actor_id: string | null
          actor_role: string
          created_at: string
          from_status: string | null
          id: number
          order_id: string
          reason: string | null
          to_status: string
        }
        Insert: {
          actor_id?: string | null
          actor_role: string
          created_at?: string
          from_status?: string | null
          id?: never
          order_id: string
          reason?: string | null
          to_status: string
        }
        Update: {
          actor_id?: string | null
          actor_role?: string
          created_at?: string
          from_status?: string | null
          id?: never
          order_id?: string
          reason?: string | null
          to_status?: string
        }
        Relationships: [
          {
            foreignKeyName: "order_events_actor_id_fkey"
            columns: ["actor_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "order_events_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
        ]
      }
      order_items: {
        Row: {
          id: string
          line_total: number
          menu_item_id: string | null
          modifiers: NonNullable<Json>
          modifiers_total: number
          name: string
          order_id: string
          position: number
          quantity: number
          stock_reserved: boolean
          unit_price: number
        }
        Insert: {
          id?: string
          line_total: number
          menu_item_id?: string | null
          modifiers?: NonNullable<Json>
          modifiers_total?: number
          name: string
          order_id: string
          position: number
          quantity: number
          stock_reserved?: boolean
          unit_price: number
        }
        Update: {
          id?: string
          line_total?: number
          menu_item_id?: string | null
          modifiers?: NonNullable<Json>
          modifiers_total?: number
          name?: string
          order_id?: string
          position?: number
          quantity?: number
          stock_reserved?: boolean
          unit_price?: number
        }
        Relationships: [
          {
            foreignKeyName: "order_items_menu_item_id_fkey"
            columns: ["menu_item_id"]
            isOneToOne: false
            referencedRelation: "menu_items"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "order_items_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
        ]
      }
      orders: {
        Row: {
          accept_reminder_sent_at: string | null
          accepted_at: string | null
          address_id: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          cancelled_by_role: string | null
          commission: number
          commission_rate: number
          completed_at: string | null
          coupon_code: string | null
          coupon_id: string | null
          created_at: string
          currency: string
          customer_id: string
          delivery_address: Json | null
          delivery_fee: number
          discount: number
          discount_funded_by: string | null
          distance_km: number | null
          fulfillment: string
          id: string
          idempotency_key: string | null
          note: string | null
          number: string
          out_for_delivery_at: string | null
          paid_at: string | null
          payment_method: string
          payment_status: string
          ready_at: string | null
          refunded_amount: number
          release_at: string | null
          scheduled_for: string | null
          service_fee: number
          small_order_fee: number
          status: string
          subtotal: number
          tip: number
          total: number
          updated_at: string
          vat: number
          vendor_earning: number | null
          vendor_id: string
        }
        Insert: {
          accept_reminder_sent_at?: string | null
          accepted_at?: string | null
          address_id?: string | null
          cancel_reason?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          cancelled_by_role?: string | null
          commission: number
          commission_rate: number
          completed_at?: string | null
          coupon_code?: string | null
          coupon_id?: string | null
          created_at?: string
          currency: string
          customer_id: string
          delivery_address?: Json | null
          delivery_fee: number
          discount?: number
          discount_funded_by?: string | null
          distance_km?: number | null
          fulfillment: string
          id?: string
          idempotency_key?: string | null
          note?: string | null
          number?: string
          out_for_delivery_at?: string | null
          paid_at?: string | null
          payment_method: string
          payment_status: string
          ready_at?: string | null
          refunded_amount?: number
          release_at?: string | null
          scheduled_for?: string | null
          service_fee?: number
          small_order_fee?: number
          status: string
          subtotal: number
          tip?: number
          total: number
          updated_at?: string
          vat?: number
          vendor_earning?: number | null
          vendor_id: string
        }
        Update: {
          accept_reminder_sent_at?: string | null
          accepted_at?: string | null
          address_id?: string | null
          cancel_reason?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          cancelled_by_role?: string | null
          commission?: number
          commission_rate?: number
          completed_at?: string | null
          coupon_code?: string | null
          coupon_id?: string | null
          created_at?: string
          currency?: string
          customer_id?: string
          delivery_address?: Json | null
          delivery_fee?: number
          discount?: number
          discount_funded_by?: string | null
          distance_km?: number | null
          fulfillment?: string
          id?: string
          idempotency_key?: string | null
          note?: string | null
          number?: string
          out_for_delivery_at?: string | null
          paid_at?: string | null
          payment_method?: string
          payment_status?: string
          ready_at?: string | null
          refunded_amount?: number
          release_at?: string | null
          scheduled_for?: string | null
          service_fee?: number
          small_order_fee?: number
          status?: string
          subtotal?: number
          tip?: number
          total?: number
          updated_at?: string
          vat?: number
          vendor_earning?: number | null
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "orders_address_id_fkey"
            columns: ["address_id"]
            isOneToOne: false
            referencedRelation: "addresses"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "orders_cancelled_by_fkey"
            columns: ["cancelled_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "orders_coupon_id_fkey"
            columns: ["coupon_id"]
            isOneToOne: false
            referencedRelation: "coupons"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "orders_customer_id_fkey"
            columns: ["customer_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "orders_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      payment_events: {
        Row: {
          created_at: string
          event_type: string
          id: string
          outcome: string
          payload: Json | null
          payment_id: string | null
          provider: string
          provider_event_id: string
        }
        Insert: {
          created_at?: string
          event_type: string
          id?: string
          outcome: string
          payload?: Json | null
          payment_id?: string | null
          provider: string
          provider_event_id: string
        }
        Update: {
          created_at?: string
          event_type?: string
          id?: string
          outcome?: string
          payload?: Json | null
          payment_id?: string | null
          provider?: string
          provider_event_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "payment_events_payment_id_fkey"
            columns: ["payment_id"]
            isOneToOne: false
            referencedRelation: "payments"
            referencedColumns: ["id"]
          },
        ]
      }
      payments: {
        Row: {
          amount: number
          created_at: string
          currency: string
          failure_reason: string | null
          id: string
          order_id: string | null
          paid_at: string | null
          provider: string
          provider_data: NonNullable<Json>
          provider_payment_id: string | null
          purpose: string
          reference: string
          refunded_amount: number
          status: string
          updated_at: string
          user_id: string
        }
        Insert: {
          amount: number
          created_at?: string
          currency: string
          failure_reason?: string | null
          id?: string
          order_id?: string | null
          paid_at?: string | null
          provider: string
          provider_data?: NonNullable<Json>
          provider_payment_id?: string | null
          purpose: string
          reference?: string
          refunded_amount?: number
          status?: string
          updated_at?: string
          user_id: string
        }
        Update: {
          amount?: number
          created_at?: string
          currency?: string
          failure_reason?: string | null
          id?: string
          order_id?: string | null
          paid_at?: string | null
          provider?: string
          provider_data?: NonNullable<Json>
          provider_payment_id?: string | null
          purpose?: string
          reference?: string
          refunded_amount?: number
          status?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "payments_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payments_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      payout_accounts: {
        Row: {
          account_name: string
          account_number: string
          bank_code: string
          bank_name: string
          created_at: string
          currency: string
          id: string
          recipient_code: string
          updated_at: string
          user_id: string
          vendor_id: string
          verified_at: string
        }
        Insert: {
          account_name: string
          account_number: string
          bank_code: string
          bank_name: string
          created_at?: string
          currency?: string
          id?: string
          recipient_code: string
          updated_at?: string
          user_id: string
          vendor_id: string
          verified_at?: string
        }
        Update: {
          account_name?: string
          account_number?: string
          bank_code?: string
          bank_name?: string
          created_at?: string
          currency?: string
          id?: string
          recipient_code?: string
          updated_at?: string
          user_id?: string
          vendor_id?: string
          verified_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "payout_accounts_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payout_accounts_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      payout_events: {
        Row: {
          created_at: string
          event_type: string
          id: string
          outcome: string
          payload: Json | null
          payout_id: string | null
          provider_event_id: string
        }
        Insert: {
          created_at?: string
          event_type: string
          id?: string
          outcome: string
          payload?: Json | null
          payout_id?: string | null
          provider_event_id: string
        }
        Update: {
          created_at?: string
          event_type?: string
          id?: string
          outcome?: string
          payload?: Json | null
          payout_id?: string | null
          provider_event_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "payout_events_payout_id_fkey"
            columns: ["payout_id"]
            isOneToOne: false
            referencedRelation: "payouts"
            referencedColumns: ["id"]
          },
        ]
      }
      payouts: {
        Row: {
          account_name: string
          account_number: string
          amount: number
          approved_at: string | null
          approved_by: string | null
          attempts: number
          bank_name: string
          created_at: string
          currency: string
          failure_reason: string | null
          finished_at: string | null
          hold_entry_id: string
          id: string
          idempotency_key: string | null
          last_error: string | null
          paid_at: string | null
          payout_account_id: string | null
          recipient_code: string
          reference: string
          rejected_at: string | null
          rejected_by: string | null
          release_entry_id: string | null
          sent_at: string | null
          status: string
          transfer_code: string | null
          updated_at: string
          user_id: string
          vendor_id: string
        }
        Insert: {
          account_name: string
          account_number: string
          amount: number
          approved_at?: string | null
          approved_by?: string | null
          attempts?: number
          bank_name: string
          created_at?: string
          currency?: string
          failure_reason?: string | null
          finished_at?: string | null
          hold_entry_id: string
          id?: string
          idempotency_key?: string | null
          last_error?: string | null
          paid_at?: string | null
          payout_account_id?: string | null
          recipient_code: string
          reference?: string
          rejected_at?: string | null
          rejected_by?: string | null
          release_entry_id?: string | null
          sent_at?: string | null
          status: string
          transfer_code?: string | null
          updated_at?: string
          user_id: string
          vendor_id: string
        }
        Update: {
          account_name?: string
          account_number?: string
          amount?: number
          approved_at?: string | null
          approved_by?: string | null
          attempts?: number
          bank_name?: string
          created_at?: string
          currency?: string
          failure_reason?: string | null
          finished_at?: string | null
          hold_entry_id?: string
          id?: string
          idempotency_key?: string | null
          last_error?: string | null
          paid_at?: string | null
          payout_account_id?: string | null
          recipient_code?: string
          reference?: string
          rejected_at?: string | null
          rejected_by?: string | null
          release_entry_id?: string | null
          sent_at?: string | null
          status?: string
          transfer_code?: string | null
          updated_at?: string
          user_id?: string
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "payouts_approved_by_fkey"
            columns: ["approved_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payouts_hold_entry_id_fkey"
            columns: ["hold_entry_id"]
            isOneToOne: false
            referencedRelation: "wallet_transactions"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payouts_payout_account_id_fkey"
            columns: ["payout_account_id"]
            isOneToOne: false
            referencedRelation: "payout_accounts"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payouts_rejected_by_fkey"
            columns: ["rejected_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payouts_release_entry_id_fkey"
            columns: ["release_entry_id"]
            isOneToOne: false
            referencedRelation: "wallet_transactions"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payouts_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "payouts_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      platform_ledger: {
        Row: {
          amount: number
          created_at: string
          id: string
          idempotency_key: string
          order_id: string | null
          type: string
        }
        Insert: {
          amount: number
          created_at?: string
          id?: string
          idempotency_key: string
          order_id?: string | null
          type: string
        }
        Update: {
          amount?: number
          created_at?: string
          id?: string
          idempotency_key?: string
          order_id?: string | null
          type?: string
        }
        Relationships: [
          {
            foreignKeyName: "platform_ledger_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
        ]
      }
      platform_settings: {
        Row: {
          id: boolean
          service_fee_cap: number
          service_fee_rate: number
          small_order_fee: number
          small_order_threshold: number
          updated_at: string
          updated_by: string | null
          vat_rate: number
        }
        Insert: {
          id?: boolean
          service_fee_cap?: number
          service_fee_rate?: number
          small_order_fee?: number
          small_order_threshold?: number
          updated_at?: string
          updated_by?: string | null
          vat_rate?: number
        }
        Update: {
          id?: boolean
          service_fee_cap?: number
          service_fee_rate?: number
          small_order_fee?: number
          small_order_threshold?: number
          updated_at?: string
          updated_by?: string | null
          vat_rate?: number
        }
        Relationships: [
          {
            foreignKeyName: "platform_settings_updated_by_fkey"
            columns: ["updated_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      profiles: {
        Row: {
          created_at: string
          full_name: string | null
          id: string
          phone: string | null
          role: string
          status: string
          updated_at: string
        }
        Insert: {
          created_at?: string
          full_name?: string | null
          id: string
          phone?: string | null
          role?: string
          status?: string
          updated_at?: string
        }
        Update: {
          created_at?: string
          full_name?: string | null
          id?: string
          phone?: string | null
          role?: string
          status?: string
          updated_at?: string
        }
        Relationships: []
      }
      receivables: {
        Row: {
          amount: number
          closed_at: string | null
          closed_by: string | null
          created_at: string
          currency: string
          id: string
          reason: string
          refund_id: string | null
          settled_amount: number
          status: string
          user_id: string
        }
        Insert: {
          amount: number
          closed_at?: string | null
          closed_by?: string | null
          created_at?: string
          currency?: string
          id?: string
          reason: string
          refund_id?: string | null
          settled_amount?: number
          status?: string
          user_id: string
        }
        Update: {
          amount?: number
          closed_at?: string | null
          closed_by?: string | null
          created_at?: string
          currency?: string
          id?: string
          reason?: string
          refund_id?: string | null
          settled_amount?: number
          status?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "receivables_closed_by_fkey"
            columns: ["closed_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "receivables_refund_id_fkey"
            columns: ["refund_id"]
            isOneToOne: false
            referencedRelation: "refunds"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "receivables_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      refunds: {
        Row: {
          actor_id: string | null
          amount: number
          attempts: number
          borne_by: string
          clawback_amount: number
          created_at: string
          currency: string
          destination: string
          failure_reason: string | null
          id: string
          idempotency_key: string
          initiated_by_role: string
          next_attempt_at: string
          order_id: string | null
          payment_id: string | null
          processed_at: string | null
          provider_refund_id: string | null
          reason: string
          replaces_refund_id: string | null
          status: string
          user_id: string
        }
        Insert: {
          actor_id?: string | null
          amount: number
          attempts?: number
          borne_by: string
          clawback_amount?: number
          created_at?: string
          currency: string
          destination: string
          failure_reason?: string | null
          id?: string
          idempotency_key: string
          initiated_by_role: string
          next_attempt_at?: string
          order_id?: string | null
          payment_id?: string | null
          processed_at?: string | null
          provider_refund_id?: string | null
          reason: string
          replaces_refund_id?: string | null
          status?: string
          user_id: string
        }
        Update: {
          actor_id?: string | null
          amount?: number
          attempts?: number
          borne_by?: string
          clawback_amount?: number
          created_at?: string
          currency?: string
          destination?: string
          failure_reason?: string | null
          id?: string
          idempotency_key?: string
          initiated_by_role?: string
          next_attempt_at?: string
          order_id?: string | null
          payment_id?: string | null
          processed_at?: string | null
          provider_refund_id?: string | null
          reason?: string
          replaces_refund_id?: string | null
          status?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "refunds_actor_id_fkey"
            columns: ["actor_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "refunds_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "refunds_payment_id_fkey"
            columns: ["payment_id"]
            isOneToOne: false
            referencedRelation: "payments"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "refunds_replaces_refund_id_fkey"
            columns: ["replaces_refund_id"]
            isOneToOne: false
            referencedRelation: "refunds"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "refunds_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      reviews: {
        Row: {
          comment: string | null
          created_at: string
          customer_id: string
          hidden_at: string | null
          hidden_by: string | null
          hidden_by_admin: boolean
          hidden_reason: string | null
          id: string
          order_id: string
          rating: number
          replied_at: string | null
          reviewer_name: string | null
          vendor_id: string
          vendor_reply: string | null
        }
        Insert: {
          comment?: string | null
          created_at?: string
          customer_id: string
          hidden_at?: string | null
          hidden_by?: string | null
          hidden_by_admin?: boolean
          hidden_reason?: string | null
          id?: string
          order_id: string
          rating: number
          replied_at?: string | null
          reviewer_name?: string | null
          vendor_id: string
          vendor_reply?: string | null
        }
        Update: {
          comment?: string | null
          created_at?: string
          customer_id?: string
          hidden_at?: string | null
          hidden_by?: string | null
          hidden_by_admin?: boolean
          hidden_reason?: string | null
          id?: string
          order_id?: string
          rating?: number
          replied_at?: string | null
          reviewer_name?: string | null
          vendor_id?: string
          vendor_reply?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "reviews_customer_id_fkey"
            columns: ["customer_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_hidden_by_fkey"
            columns: ["hidden_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: true
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      vendor_closures: {
        Row: {
          created_at: string
          ends_at: string
          id: string
          reason: string | null
          starts_at: string
          vendor_id: string
        }
        Insert: {
          created_at?: string
          ends_at: string
          id?: string
          reason?: string | null
          starts_at: string
          vendor_id: string
        }
        Update: {
          created_at?: string
          ends_at?: string
          id?: string
          reason?: string | null
          starts_at?: string
          vendor_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "vendor_closures_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      vendor_hours: {
        Row: {
          closes_at: string
          created_at: string
          id: string
          opens_at: string
          vendor_id: string
          weekday: number
        }
        Insert: {
          closes_at: string
          created_at?: string
          id?: string
          opens_at: string
          vendor_id: string
          weekday: number
        }
        Update: {
          closes_at?: string
          created_at?: string
          id?: string
          opens_at?: string
          vendor_id?: string
          weekday?: number
        }
        Relationships: [
          {
            foreignKeyName: "vendor_hours_vendor_id_fkey"
            columns: ["vendor_id"]
            isOneToOne: false
            referencedRelation: "vendors"
            referencedColumns: ["id"]
          },
        ]
      }
      vendors: {
        Row: {
          accept_within_minutes: number
          address_line: string | null
          base_delivery_fee: number
          base_delivery_km: number
          commission_rate: number
          created_at: string
          cuisines: string[]
          currency: string
          delivery_radius_km: number
          description: string | null
          id: string
          is_open: boolean
          lat: number
          lng: number
          logo_url: string | null
          min_order_amount: number
          name: string
          owner_id: string
          per_km_fee: number
          phone: string | null
          prep_time_minutes: number
          rating: number | null
          rating_count: number
          search_text: string
          slug: string
          status: string
          updated_at: string
          is_open_now: boolean | null
        }
        Insert: {
          accept_within_minutes?: number
          address_line?: string | null
          base_delivery_fee?: number
          base_delivery_km?: number
          commission_rate?: number
          created_at?: string
          cuisines?: string[]
          currency?: string
          delivery_radius_km?: number
          description?: string | null
          id?: string
          is_open?: boolean
          lat: number
          lng: number
          logo_url?: string | null
          min_order_amount?: number
          name: string
          owner_id?: string
          per_km_fee?: number
          phone?: string | null
          prep_time_minutes?: number
          rating?: number | null
          rating_count?: number
          search_text?: string
          slug: string
          status?: string
          updated_at?: string
        }
        Update: {
          accept_within_minutes?: number
          address_line?: string | null
          base_delivery_fee?: number
          base_delivery_km?: number
          commission_rate?: number
          created_at?: string
          cuisines?: string[]
          currency?: string
          delivery_radius_km?: number
          description?: string | null
          id?: string
          is_open?: boolean
          lat?: number
          lng?: number
          logo_url?: string | null
          min_order_amount?: number
          name?: string
          owner_id?: string
          per_km_fee?: number
          phone?: string | null
          prep_time_minutes?: number
          rating?: number | null
          rating_count?: number
          search_text?: string
          slug?: string
          status?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "vendors_owner_id_fkey"
            columns: ["owner_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      wallet_transactions: {
        Row: {
          amount: number
          balance_after: number
          created_at: string
          created_by: string | null
          id: string
          idempotency_key: string
          note: string | null
          order_id: string | null
          payment_id: string | null
          reference: string
          type: string
          wallet_id: string
        }
        Insert: {
          amount: number
          balance_after: number
          created_at?: string
          created_by?: string | null
          id?: string
          idempotency_key: string
          note?: string | null
          order_id?: string | null
          payment_id?: string | null
          reference: string
          type: string
          wallet_id: string
        }
        Update: {
          amount?: number
          balance_after?: number
          created_at?: string
          created_by?: string | null
          id?: string
          idempotency_key?: string
          note?: string | null
          order_id?: string | null
          payment_id?: string | null
          reference?: string
          type?: string
          wallet_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "wallet_transactions_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "wallet_transactions_order_id_fkey"
            columns: ["order_id"]
            isOneToOne: false
            referencedRelation: "orders"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "wallet_transactions_payment_id_fkey"
            columns: ["payment_id"]
            isOneToOne: false
            referencedRelation: "payments"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "wallet_transactions_wallet_id_fkey"
            columns: ["wallet_id"]
            isOneToOne: false
            referencedRelation: "wallets"
            referencedColumns: ["id"]
          },
        ]
      }
      wallets: {
        Row: {
          balance: number
          created_at: string
          currency: string
          id: string
          updated_at: string
          user_id: string
        }
        Insert: {
          balance?: number
          created_at?: string
          currency?: string
          id?: string
          updated_at?: string
          user_id: string
        }
        Update: {
          balance?: number
          created_at?: string
          currency?: string
          id?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "wallets_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      admin_adjust_wallet: {
        Args: { p_amount: number; p_reason: string; p_user_id: string }
        Returns: {
          amount: number
          balance_after: number
          created_at: string
          created_by: string | null
          id: string
          idempotency_key: string
          note: string | null
          order_id: string | null
          payment_id: string | null
          reference: string
          type: string
          wallet_id: string
        }
        SetofOptions: {
          from: "*"
          to: "wallet_transactions"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      admin_approve_payout: {
        Args: { p_payout_id: string }
        Returns: {
          account_name: string
          account_number: string
          amount: number
          approved_at: string | null
          approved_by: string | null
          attempts: number
          bank_name: string
          created_at: string
          currency: string
          failure_reason: string | null
          finished_at: string | null
          hold_entry_id: string
          id: string
          idempotency_key: string | null
          last_error: string | null
          paid_at: string | null
          payout_account_id: string | null
          recipient_code: string
          reference: string
          rejected_at: string | null
          rejected_by: string | null
          release_entry_id: string | null
          sent_at: string | null
          status: string
          transfer_code: string | null
          updated_at: string
          user_id: string
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "payouts"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      admin_broadcast: {
        Args: { p_audience?: string; p_body: string; p_title: string }
        Returns: number
      }
      admin_hide_review: {
        Args: { p_reason: string; p_review_id: string }
        Returns: {
          comment: string | null
          created_at: string
          customer_id: string
          hidden_at: string | null
          hidden_by: string | null
          hidden_by_admin: boolean
          hidden_reason: string | null
          id: string
          order_id: string
          rating: number
          replied_at: string | null
          reviewer_name: string | null
          vendor_id: string
          vendor_reply: string | null
        }
        SetofOptions: {
          from: "*"
          to: "reviews"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      admin_reject_payout: {
        Args: { p_payout_id: string; p_reason: string }
        Returns: {
          account_name: string
          account_number: string
          amount: number
          approved_at: string | null
          approved_by: string | null
          attempts: number
          bank_name: string
          created_at: string
          currency: string
          failure_reason: string | null
          finished_at: string | null
          hold_entry_id: string
          id: string
          idempotency_key: string | null
          last_error: string | null
          paid_at: string | null
          payout_account_id: string | null
          recipient_code: string
          reference: string
          rejected_at: string | null
          rejected_by: string | null
          release_entry_id: string | null
          sent_at: string | null
          status: string
          transfer_code: string | null
          updated_at: string
          user_id: string
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "payouts"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      admin_set_user_status: {
        Args: { p_reason?: string; p_status: string; p_user_id: string }
        Returns: {
          created_at: string
          full_name: string | null
          id: string
          phone: string | null
          role: string
          status: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "profiles"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      admin_set_vendor_status: {
        Args: { p_reason?: string; p_status: string; p_vendor_id: string }
        Returns: {
          accept_within_minutes: number
          address_line: string | null
          base_delivery_fee: number
          base_delivery_km: number
          commission_rate: number
          created_at: string
          cuisines: string[]
          currency: string
          delivery_radius_km: number
          description: string | null
          id: string
          is_open: boolean
          lat: number
          lng: number
          logo_url: string | null
          min_order_amount: number
          name: string
          owner_id: string
          per_km_fee: number
          phone: string | null
          prep_time_minutes: number
          rating: number | null
          rating_count: number
          search_text: string
          slug: string
          status: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "vendors"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      admin_write_off_receivable: {
        Args: { p_reason: string; p_receivable_id: string }
        Returns: {
          amount: number
          closed_at: string | null
          closed_by: string | null
          created_at: string
          currency: string
          id: string
          reason: string
          refund_id: string | null
          settled_amount: number
          status: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "receivables"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      apply_transfer_status: {
        Args: {
          p_amount?: number
          p_currency?: string
          p_payload?: Json
          p_provider_event_id?: string
          p_reason?: string
          p_reference: string
          p_status: string
          p_transfer_code?: string
        }
        Returns: Json
      }
      begin_payment: {
        Args: {
          p_order_id?: string
          p_provider: string
          p_topup_amount?: number
          p_user_id: string
        }
        Returns: {
          amount: number
          created_at: string
          currency: string
          failure_reason: string | null
          id: string
          order_id: string | null
          paid_at: string | null
          provider: string
          provider_data: NonNullable<Json>
          provider_payment_id: string | null
          purpose: string
          reference: string
          refunded_amount: number
          status: string
          updated_at: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "payments"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      cancel_order: {
        Args: { p_order_id: string; p_reason?: string; p_refund_to?: string }
        Returns: {
          accept_reminder_sent_at: string | null
          accepted_at: string | null
          address_id: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          cancelled_by_role: string | null
          commission: number
          commission_rate: number
          completed_at: string | null
          coupon_code: string | null
          coupon_id: string | null
          created_at: string
          currency: string
          customer_id: string
          delivery_address: Json | null
          delivery_fee: number
          discount: number
          discount_funded_by: string | null
          distance_km: number | null
          fulfillment: string
          id: string
          idempotency_key: string | null
          note: string | null
          number: string
          out_for_delivery_at: string | null
          paid_at: string | null
          payment_method: string
          payment_status: string
          ready_at: string | null
          refunded_amount: number
          release_at: string | null
          scheduled_for: string | null
          service_fee: number
          small_order_fee: number
          status: string
          subtotal: number
          tip: number
          total: number
          updated_at: string
          vat: number
          vendor_earning: number | null
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "orders"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      cancel_unaccepted_orders: {
        Args: Record<PropertyKey, never>
        Returns: Json
      }
      claim_card_refunds: {
        Args: { p_limit?: number; p_refund_id?: string }
        Returns: {
          amount: number
          attempts: number
          currency: string
          payment_reference: string
          provider: string
          provider_payment_id: string
          reason: string
          refund_id: string
        }[]
      }
      claim_notification_deliveries: {
        Args: { p_ids?: string[]; p_lease_seconds?: number; p_limit?: number }
        Returns: {
          attempts: number
          body: string
          channel: string
          claim_id: string
          data: Json
          email: string
          id: string
          notification_id: string
          phone: string
          title: string
          tokens: string[]
          type: string
          user_id: string
        }[]
      }
      claim_payouts: {
        Args: { p_limit?: number; p_payout_id?: string; p_user_id: string }
        Returns: {
          account_name: string
          account_number: string
          amount: number
          approved_at: string | null
          approved_by: string | null
          attempts: number
          bank_name: string
          created_at: string
          currency: string
          failure_reason: string | null
          finished_at: string | null
          hold_entry_id: string
          id: string
          idempotency_key: string | null
          last_error: string | null
          paid_at: string | null
          payout_account_id: string | null
          recipient_code: string
          reference: string
          rejected_at: string | null
          rejected_by: string | null
          release_entry_id: string | null
          sent_at: string | null
          status: string
          transfer_code: string | null
          updated_at: string
          user_id: string
          vendor_id: string
        }[]
        SetofOptions: {
          from: "*"
          to: "payouts"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      complete_notification_delivery: {
        Args: {
          p_claim_id: string
          p_error?: string
          p_id: string
          p_outcome: string
          p_provider_message_id?: string
        }
        Returns: string
      }
      confirm_payment: {
        Args: {
          p_amount: number
          p_currency: string
          p_payload?: Json
          p_provider: string
          p_provider_event_id: string
          p_provider_payment_id?: string
          p_reference: string
        }
        Returns: Json
      }
      deactivate_device_tokens: {
        Args: { p_reason: string; p_tokens: string[] }
        Returns: number
      }
      expire_unpaid_orders: {
        Args: Record<PropertyKey, never>
        Returns: number
      }
      is_open_now: {
        Args: { v: Database["public"]["Tables"]["vendors"]["Row"] }
        Returns: boolean
      }
      mark_notifications_read: { Args: { p_ids?: string[] }; Returns: number }
      nearby_vendors: {
        Args: {
          p_lat: number
          p_lng: number
          p_radius_km?: number
          p_search?: string
        }
        Returns: {
          base_delivery_fee: number
          cuisines: string[]
          currency: string
          delivery_fee: number
          delivery_radius_km: number
          description: string
          distance_km: number
          id: string
          is_open_now: boolean
          lat: number
          lng: number
          logo_url: string
          min_order_amount: number
          name: string
          prep_time_minutes: number
          rating: number
          rating_count: number
          slug: string
        }[]
      }
      payments_to_reconcile: {
        Args: { p_limit?: number }
        Returns: {
          abandoned: boolean
          amount: number
          currency: string
          payment_id: string
          provider: string
          provider_payment_id: string
          reference: string
        }[]
      }
      place_order: {
        Args: {
          p_address_id: string
          p_coupon_code?: string
          p_fulfillment: string
          p_idempotency_key?: string
          p_items: Json
          p_note?: string
          p_payment_method: string
          p_scheduled_for?: string
          p_tip?: number
          p_vendor_id: string
        }
        Returns: {
          accept_reminder_sent_at: string | null
          accepted_at: string | null
          address_id: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          cancelled_by_role: string | null
          commission: number
          commission_rate: number
          completed_at: string | null
          coupon_code: string | null
          coupon_id: string | null
          created_at: string
          currency: string
          customer_id: string
          delivery_address: Json | null
          delivery_fee: number
          discount: number
          discount_funded_by: string | null
          distance_km: number | null
          fulfillment: string
          id: string
          idempotency_key: string | null
          note: string | null
          number: string
          out_for_delivery_at: string | null
          paid_at: string | null
          payment_method: string
          payment_status: string
          ready_at: string | null
          refunded_amount: number
          release_at: string | null
          scheduled_for: string | null
          service_fee: number
          small_order_fee: number
          status: string
          subtotal: number
          tip: number
          total: number
          updated_at: string
          vat: number
          vendor_earning: number | null
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "orders"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      quote_order: {
        Args: {
          p_address_id?: string
          p_coupon_code?: string
          p_fulfillment: string
          p_items: Json
          p_scheduled_for?: string
          p_tip?: number
          p_vendor_id: string
        }
        Returns: Json
      }
      record_card_refund_result: {
        Args: {
          p_failure_reason?: string
          p_provider_refund_id: string
          p_refund_id: string
          p_status: string
        }
        Returns: {
          actor_id: string | null
          amount: number
          attempts: number
          borne_by: string
          clawback_amount: number
          created_at: string
          currency: string
          destination: string
          failure_reason: string | null
          id: string
          idempotency_key: string
          initiated_by_role: string
          next_attempt_at: string
          order_id: string | null
          payment_id: string | null
          processed_at: string | null
          provider_refund_id: string | null
          reason: string
          replaces_refund_id: string | null
          status: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "refunds"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      record_payment_failure: {
        Args: {
          p_payload?: Json
          p_provider: string
          p_provider_event_id: string
          p_reason?: string
          p_reference: string
        }
        Returns: Json
      }
      record_payout_send_error: {
        Args: { p_error: string; p_reference: string }
        Returns: {
          account_name: string
          account_number: string
          amount: number
          approved_at: string | null
          approved_by: string | null
          attempts: number
          bank_name: string
          created_at: string
          currency: string
          failure_reason: string | null
          finished_at: string | null
          hold_entry_id: string
          id: string
          idempotency_key: string | null
          last_error: string | null
          paid_at: string | null
          payout_account_id: string | null
          recipient_code: string
          reference: string
          rejected_at: string | null
          rejected_by: string | null
          release_entry_id: string | null
          sent_at: string | null
          status: string
          transfer_code: string | null
          updated_at: string
          user_id: string
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "payouts"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      record_provider_refund: {
        Args: {
          p_amount: number
          p_currency: string
          p_payload?: Json
          p_provider: string
          p_provider_event_id: string
          p_provider_refund_id: string
          p_reason?: string
          p_reference: string
          p_refund_id?: string
          p_status: string
        }
        Returns: Json
      }
      refund_order: {
        Args: {
          p_amount: number
          p_borne_by?: string
          p_destination?: string
          p_order_id: string
          p_reason: string
        }
        Returns: {
          actor_id: string | null
          amount: number
          attempts: number
          borne_by: string
          clawback_amount: number
          created_at: string
          currency: string
          destination: string
          failure_reason: string | null
          id: string
          idempotency_key: string
          initiated_by_role: string
          next_attempt_at: string
          order_id: string | null
          payment_id: string | null
          processed_at: string | null
          provider_refund_id: string | null
          reason: string
          replaces_refund_id: string | null
          status: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "refunds"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      register_device: {
        Args: { p_platform: string; p_token: string }
        Returns: {
          active: boolean
          created_at: string
          deactivated_at: string | null
          deactivated_reason: string | null
          id: string
          last_seen_at: string
          platform: string
          token: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "device_tokens"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      release_scheduled_orders: {
        Args: Record<PropertyKey, never>
        Returns: number
      }
      reorder: { Args: { p_order_id: string }; Returns: Json }
      reply_to_review: {
        Args: { p_reply: string; p_review_id: string }
        Returns: {
          comment: string | null
          created_at: string
          customer_id: string
          hidden_at: string | null
          hidden_by: string | null
          hidden_by_admin: boolean
          hidden_reason: string | null
          id: string
          order_id: string
          rating: number
          replied_at: string | null
          reviewer_name: string | null
          vendor_id: string
          vendor_reply: string | null
        }
        SetofOptions: {
          from: "*"
          to: "reviews"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      request_payout: {
        Args: { p_amount: number; p_idempotency_key?: string }
        Returns: {
          account_name: string
          account_number: string
          amount: number
          approved_at: string | null
          approved_by: string | null
          attempts: number
          bank_name: string
          created_at: string
          currency: string
          failure_reason: string | null
          finished_at: string | null
          hold_entry_id: string
          id: string
          idempotency_key: string | null
          last_error: string | null
          paid_at: string | null
          payout_account_id: string | null
          recipient_code: string
          reference: string
          rejected_at: string | null
          rejected_by: string | null
          release_entry_id: string | null
          sent_at: string | null
          status: string
          transfer_code: string | null
          updated_at: string
          user_id: string
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "payouts"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      review_order: {
        Args: { p_comment?: string; p_order_id: string; p_rating: number }
        Returns: {
          comment: string | null
          created_at: string
          customer_id: string
          hidden_at: string | null
          hidden_by: string | null
          hidden_by_admin: boolean
          hidden_reason: string | null
          id: string
          order_id: string
          rating: number
          replied_at: string | null
          reviewer_name: string | null
          vendor_id: string
          vendor_reply: string | null
        }
        SetofOptions: {
          from: "*"
          to: "reviews"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      save_payout_account: {
        Args: {
          p_account_name: string
          p_account_number: string
          p_bank_code: string
          p_bank_name: string
          p_recipient_code: string
          p_user_id: string
        }
        Returns: {
          account_name: string
          account_number: string
          bank_code: string
          bank_name: string
          created_at: string
          currency: string
          id: string
          recipient_code: string
          updated_at: string
          user_id: string
          vendor_id: string
          verified_at: string
        }
        SetofOptions: {
          from: "*"
          to: "payout_accounts"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      set_payment_provider_data: {
        Args: {
          p_payment_id: string
          p_provider_data?: Json
          p_provider_payment_id: string
        }
        Returns: {
          amount: number
          created_at: string
          currency: string
          failure_reason: string | null
          id: string
          order_id: string | null
          paid_at: string | null
          provider: string
          provider_data: NonNullable<Json>
          provider_payment_id: string | null
          purpose: string
          reference: string
          refunded_amount: number
          status: string
          updated_at: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "payments"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      unregister_device: { Args: { p_token: string }; Returns: boolean }
      update_order_status: {
        Args: { p_order_id: string; p_reason?: string; p_status: string }
        Returns: {
          accept_reminder_sent_at: string | null
          accepted_at: string | null
          address_id: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          cancelled_by_role: string | null
          commission: number
          commission_rate: number
          completed_at: string | null
          coupon_code: string | null
          coupon_id: string | null
          created_at: string
          currency: string
          customer_id: string
          delivery_address: Json | null
          delivery_fee: number
          discount: number
          discount_funded_by: string | null
          distance_km: number | null
          fulfillment: string
          id: string
          idempotency_key: string | null
          note: string | null
          number: string
          out_for_delivery_at: string | null
          paid_at: string | null
          payment_method: string
          payment_status: string
          ready_at: string | null
          refunded_amount: number
          release_at: string | null
          scheduled_for: string | null
          service_fee: number
          small_order_fee: number
          status: string
          subtotal: number
          tip: number
          total: number
          updated_at: string
          vat: number
          vendor_earning: number | null
          vendor_id: string
        }
        SetofOptions: {
          from: "*"
          to: "orders"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      vendor_statement: {
        Args: { p_from: string; p_to: string; p_vendor_id: string }
        Returns: Json
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

