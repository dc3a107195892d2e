import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { isr } from 'vite-isr/plugin'

export default defineConfig({
  // isr() reads the routes from app/ (change it with isr({ appDir: 'src/app' })).
  plugins: [react(), isr()],
})
